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

/** The task once terminal, via ?wait= (the test's own timeout bounds it). */
async function waitTerminal(url: string, id: string): Promise<Task> {
  for (;;) {
    const t = (await call(url, `/v1/tasks/${id}?wait=30`)).body as Task;
    if (['completed', 'failed', 'cancelled'].includes(t.status)) return t;
  }
}

describe('crash', () => {
  it('after SIGKILL with tasks pending and in flight, a restart completes every acknowledged task', { timeout: 60_000 }, async () => {
    const db = path.join(tempDir(), 'aq.db');
    let alive = true;
    // Before the kill the slow target never answers, so its tasks are surely in flight; the fast
    // one answers its first 40 requests and then holds the rest, so later fast tasks surely wait.
    const slow = await startTarget(() => (alive ? { hang: true } : { status: 200, body: 'slow ok' }));
    const FAST_ANSWERED = 40;
    const fast = await startTarget((_r, i) => (alive && i >= FAST_ANSWERED ? { hang: true } : { status: 200, body: 'fast ok' }));
    const first = await spawnServer(['--db', db]);
    // The fast queue goes 4 at a time, so many of its tasks are still pending at the kill.
    expect((await fetch(first.url + '/v1/queues/fast', { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"concurrency":4}' })).status).toBe(200);

    const acked: string[] = [];
    const queueOf = new Map<string, string>();
    const TOTAL = 300;
    let next = 0;
    let killed = false;
    let ackedEnough!: () => void;
    const mostAcked = new Promise<void>((r) => (ackedEnough = r));
    const worker = async () => {
      while (next < TOTAL && !killed) {
        const i = next++;
        const body = i % 6 === 0 ? taskInput(slow.url, { queue: 'slow', payload: i }) : taskInput(fast.url, { queue: 'fast', payload: i });
        try {
          const r = await call(first.url, '/v1/tasks', body);
          if (r.status !== 201) continue;
          queueOf.set(r.body.id, body.queue as string);
          if (acked.push(r.body.id) === 280) ackedEnough();
        } catch {
          // the server died under this request: not acknowledged, so not promised
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    // Kill once most tasks are acknowledged and both targets hold attempts in flight (the fast
    // queue's 4 slots are then all taken by held requests).
    await Promise.all([mostAcked, slow.waitForRequests(10), fast.waitForRequests(FAST_ANSWERED + 4)]);
    const inFlightIds = slow.requests.map((r) => String(r.headers['aq-task-id']));
    killed = true;
    first.proc.kill('SIGKILL');
    await first.exited;
    await Promise.all(workers);
    alive = false;
    expect(inFlightIds.length).toBeGreaterThanOrEqual(10);
    const fastBeforeKill = fast.requests.length;
    expect(acked.length).toBeGreaterThanOrEqual(280);
    expect(fastBeforeKill).toBe(FAST_ANSWERED + 4); // concurrency 4: the rest of the fast queue was still pending
    expect(acked.filter((id) => queueOf.get(id) === 'fast').length - fastBeforeKill).toBeGreaterThan(50);

    const second = await spawnServer(['--db', db]);
    const ended = await Promise.all(acked.map((id) => waitTerminal(second.url, id)));
    expect(ended.filter((t) => t.status !== 'completed')).toEqual([]);
    // Every acknowledged task reached its target and completed there: none was lost with the kill.
    const reached = new Set([...slow.requests, ...fast.requests].map((r) => String(r.headers['aq-task-id'])));
    expect(acked.filter((id) => !reached.has(id))).toEqual([]);
    expect(ended.map((t) => t.result)).toEqual(acked.map((id) => (queueOf.get(id) === 'slow' ? 'slow ok' : 'fast ok')));
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
