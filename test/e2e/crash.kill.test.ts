// Crash safety (api.md §3 "a 201 means durably stored", §5 Crash): the real binary is SIGKILLed
// with tasks pending and in flight, restarted on the same --db, and every acknowledged task ends
// completed, with the attempts cut off by the kill recorded as interrupted.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Attempt, Task } from '../../src/shared/types.js';
import { spawnServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput } from '../helpers/tasks.js';
import { tempDir } from '../helpers/temp.js';

async function call(url: string, pathname: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url + pathname, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function waitTerminal(url: string, id: string): Promise<Task> {
  for (let i = 0; i < 10; i++) {
    const t = (await call(url, `/v1/tasks/${id}?wait=5`)).body as Task;
    if (['completed', 'failed', 'cancelled'].includes(t.status)) return t;
  }
  throw new Error(`task ${id} did not end`);
}

describe('crash', () => {
  it('after SIGKILL with tasks pending and in flight, a restart completes every acknowledged task', { timeout: 60_000 }, async () => {
    const db = path.join(tempDir(), 'aq.db');
    let alive = true;
    // Before the kill the slow target never answers, so its tasks are surely in flight.
    const slow = await startTarget(() => (alive ? { hang: true } : { status: 200, body: 'slow ok' }));
    const fast = await startTarget(() => ({ status: 200, delayMs: 20, body: 'fast ok' }));
    const first = await spawnServer(['--db', db]);
    // The fast queue goes 4 at a time, so many of its tasks are still pending at the kill.
    expect((await fetch(first.url + '/v1/queues/fast', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"concurrency":4}' })).status).toBe(200);

    const acked: string[] = [];
    const TOTAL = 300;
    let next = 0;
    let killed = false;
    const worker = async () => {
      while (next < TOTAL && !killed) {
        const i = next++;
        const body = i % 6 === 0 ? taskInput(slow.url, { queue: 'slow', payload: i }) : taskInput(fast.url, { queue: 'fast', payload: i });
        try {
          const r = await call(first.url, '/v1/tasks', body);
          if (r.status === 201) acked.push(r.body.id);
        } catch {
          // the server died under this request: not acknowledged, so not promised
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    // Kill once most tasks are acknowledged and the slow target holds attempts in flight.
    for (let i = 0; i < 400 && (acked.length < 280 || slow.requests.length < 10); i++) await new Promise((r) => setTimeout(r, 25));
    const inFlightIds = slow.requests.map((r) => String(r.headers['aq-task-id']));
    killed = true;
    first.proc.kill('SIGKILL');
    await first.exited;
    await Promise.all(workers);
    alive = false;
    expect(inFlightIds.length).toBeGreaterThanOrEqual(10);
    const fastBeforeKill = fast.requests.length;
    expect(acked.length).toBeGreaterThanOrEqual(280);
    expect(acked.length - inFlightIds.length - fastBeforeKill).toBeGreaterThan(50); // fast tasks were still pending

    const second = await spawnServer(['--db', db]);
    const ended = await Promise.all(acked.map((id) => waitTerminal(second.url, id)));
    expect(ended.filter((t) => t.status !== 'completed')).toEqual([]);
    expect(ended).toHaveLength(acked.length);
    // The attempts cut off by the kill are recorded as interrupted, then retried.
    for (const id of inFlightIds) {
      const attempts = (await call(second.url, `/v1/tasks/${id}/attempts`)).body.attempts as Attempt[];
      expect(attempts[0]).toMatchObject({ n: 1, error: { type: 'interrupted' } });
      expect(attempts.at(-1)).toMatchObject({ status: 200 });
    }
    const stats = (await call(second.url, '/v1/stats')).body;
    expect(stats.counts.pending + stats.counts.running + stats.counts.failed).toBe(0);
  });
});
