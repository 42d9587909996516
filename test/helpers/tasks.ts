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

/**
 * Waits (via GET ?wait=) until the task is terminal; returns it. No deadline of its own: the
 * test's timeout bounds the wait, so a slow machine makes it slower, never wrong. (`_seconds` is
 * accepted for older callers and ignored.)
 */
export async function waitForTerminal(server: TestServer, id: string, _seconds?: number): Promise<Task> {
  for (;;) {
    const t = (await server.api(`/v1/tasks/${id}?wait=60`)).body as Task;
    if (['completed', 'failed', 'cancelled'].includes(t.status)) return t;
  }
}

/**
 * Waits until `check` passes on the task: re-read on each of its events, with a 50 ms backstop
 * for what has no event (a webhook delivery's state). No deadline of its own (the test's
 * timeout bounds it); `_ms` is accepted for older callers and ignored.
 */
export async function waitForTask(server: TestServer, id: string, check: (t: Task) => boolean, _ms?: number): Promise<Task> {
  let wake: () => void = () => {};
  const off = server.events.onTask(id, () => wake());
  try {
    for (;;) {
      const t = (await server.api(`/v1/tasks/${id}`)).body as Task;
      if (check(t)) return t;
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
  } finally {
    off();
  }
}
