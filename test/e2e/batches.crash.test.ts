// Crash safety of batches (api.md §13): the batch.done webhook is an outbox row written in the
// transaction of the member change that made the batch done, so a SIGKILL around that moment
// still yields exactly one batch.done (one webhook-id) after a restart on the same --db, and the
// delivery attempt the kill cut short is closed in its history, never left open.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Batch } from '../../src/shared/types.js';
import { spawnServer, type SpawnedServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput } from '../helpers/tasks.js';
import { tempDir } from '../helpers/temp.js';

async function call(url: string, pathname: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(url + pathname, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

/**
 * The batch once `check` passes. With `untilDone` it long-polls until the batch is done; other
 * states (a count before the end, a webhook's delivery) have no event a client can wait on, so
 * they are re-read on a 50 ms backstop.
 */
async function waitBatch(url: string, id: string, check: (b: Batch) => boolean, untilDone = true): Promise<Batch> {
  for (;;) {
    const b = (await call(url, `/v1/batches/${id}${untilDone ? '?wait=30' : ''}`)).body as Batch;
    if (check(b)) return b;
    if (b.done || !untilDone) await new Promise((r) => setTimeout(r, 50));
  }
}

async function kill(s: SpawnedServer): Promise<void> {
  s.proc.kill('SIGKILL');
  await s.exited;
}

describe('batch crash', () => {
  it('SIGKILL while the last member is in flight: after the restart it is retried and the batch.done webhook comes once', { timeout: 60_000 }, async () => {
    const db = path.join(tempDir(), 'aq.db');
    let alive = true;
    const target = await startTarget((req) => (alive && req.json === 'last' ? { hang: true } : { status: 200, body: { ok: req.json } }));
    const hook = await startTarget();
    const first = await spawnServer(['--db', db]);
    const created = await call(first.url, '/v1/tasks/batch', {
      tasks: [taskInput(target.url, { payload: 'a' }), taskInput(target.url, { payload: 'b' }), taskInput(target.url, { payload: 'last' })],
      batch: { webhookUrl: hook.url },
    });
    expect(created.status).toBe(201);
    const id = created.body.batchId as string;
    await target.waitForRequests(3);
    await waitBatch(first.url, id, (b) => b.counts.completed === 2 && b.counts.running === 1, false);
    await kill(first);
    alive = false;

    const second = await spawnServer(['--db', db]);
    const done = await waitBatch(second.url, id, (b) => b.webhook?.status === 'delivered');
    expect(done).toMatchObject({ total: 3, counts: { pending: 0, running: 0, completed: 3, failed: 0, cancelled: 0 }, done: true });
    expect(hook.requests).toHaveLength(1);
    expect(hook.requests[0]!.headers['webhook-id']).toBe(`${id}.1`);
    expect(hook.requests[0]!.json).toMatchObject({ type: 'batch.done', batch: { id, counts: { completed: 3 } } });
  });

  it('SIGKILL once the last member made the batch done, its webhook not yet delivered: the restart sends that one webhook', { timeout: 60_000 }, async () => {
    const db = path.join(tempDir(), 'aq.db');
    let alive = true;
    const target = await startTarget();
    // While the first server lives, the receiver holds the batch.done request: the kill lands
    // after the commit that made the batch done and opened its delivery, before any answer.
    const hook = await startTarget(() => (alive ? { hang: true } : { status: 200 }));
    const first = await spawnServer(['--db', db]);
    const created = await call(first.url, '/v1/tasks/batch', { tasks: [taskInput(target.url), taskInput(target.url)], batch: { webhookUrl: hook.url } });
    const id = created.body.batchId as string;
    await hook.waitForRequests(1);
    await kill(first);
    alive = false;

    const second = await spawnServer(['--db', db]);
    const done = await waitBatch(second.url, id, (b) => b.webhook?.status === 'delivered');
    expect(done).toMatchObject({ done: true, counts: { completed: 2 } });
    // The held request and its re-delivery are one outcome: the same webhook-id, the same body.
    expect(hook.requests.length).toBeGreaterThanOrEqual(2);
    expect(new Set(hook.requests.map((r) => r.headers['webhook-id']))).toEqual(new Set([`${id}.1`]));
    expect(new Set(hook.requests.map((r) => r.body)).size).toBe(1);
    expect(target.requests).toHaveLength(2);
    // The history keeps the attempt the kill cut short, closed as interrupted: no row is left open.
    const history = await call(second.url, `/v1/batches/${id}/deliveries`);
    expect(history.status).toBe(200);
    const deliveries = history.body.deliveries as { outcome: number; attempt: number; durationMs: number | null; status?: number; error?: { type: string } }[];
    expect(deliveries.length).toBe(hook.requests.length);
    expect(deliveries.every((d) => d.outcome === 1 && d.durationMs !== null)).toBe(true);
    expect(deliveries.map((d) => d.attempt)).toEqual(deliveries.map((_, i) => i + 1));
    expect(deliveries[0]!.error?.type).toBe('interrupted');
    expect(deliveries.at(-1)).toMatchObject({ status: 200 });
  });
});
