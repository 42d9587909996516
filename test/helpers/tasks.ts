// Task helpers: a minimal create body, and waiting for a status through the API's own long-poll.
import { expect } from 'vitest';
import type { Task } from '../../src/shared/types.js';
import type { TestServer } from './server.js';

/** A create body for `targetUrl` with small backoff values so retries run in milliseconds. */
export function taskInput(targetUrl: string, extra: Record<string, unknown> = {}) {
  return { targetUrl, payload: { hello: 'world' }, backoff: { initial: 0.01, factor: 2, max: 0.05 }, ...extra };
}

export async function createTask(server: TestServer, body: Record<string, unknown>): Promise<Task> {
  const r = await server.api('/v1/tasks', { body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body as Task;
}

/** Waits (via GET ?wait=) until the task is terminal, at most `seconds`; returns it. */
export async function waitForTerminal(server: TestServer, id: string, seconds = 15): Promise<Task> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const left = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
    const r = await server.api(`/v1/tasks/${id}?wait=${Math.min(left, 60)}`);
    const t = r.body as Task;
    if (['completed', 'failed', 'cancelled'].includes(t.status) || Date.now() >= deadline) return t;
  }
}

/** Waits until `check` passes on the task: re-read on each of its events, with a 50 ms backstop; at most `ms`. */
export async function waitForTask(server: TestServer, id: string, check: (t: Task) => boolean, ms = 15_000): Promise<Task> {
  const deadline = Date.now() + ms;
  let wake: () => void = () => {};
  const off = server.events.onTask(id, () => wake());
  try {
    for (;;) {
      const t = (await server.api(`/v1/tasks/${id}`)).body as Task;
      if (check(t)) return t;
      if (Date.now() > deadline) throw new Error(`task ${id} never matched; last: ${JSON.stringify(t)}`);
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
  } finally {
    off();
  }
}
