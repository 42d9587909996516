// Batches (api.md §13): counts kept with each member's change, `?wait=` until done, the list and
// bulk `batch` filters, and one signed `batch.done` webhook per time the batch becomes done.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateSecret } from '../../src/shared/signing.js';
import type { Batch, Task } from '../../src/shared/types.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput } from '../helpers/tasks.js';

async function batchOf(server: TestServer, id: string, wait?: number): Promise<Batch> {
  const r = await server.api(`/v1/batches/${id}${wait ? `?wait=${wait}` : ''}`);
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as Batch;
}

/** The batch once done, via ?wait= (the test's timeout bounds it). */
async function waitDone(server: TestServer, id: string): Promise<Batch> {
  for (;;) {
    const b = await batchOf(server, id, 60);
    if (b.done) return b;
  }
}

/** Waits until `check` passes on the batch: re-read on every task event, with a 50 ms backstop for what has none (its webhook's state), as waitForTask. */
async function waitBatch(server: TestServer, id: string, check: (b: Batch) => boolean): Promise<Batch> {
  let wake: () => void = () => {};
  const off = server.events.on(() => wake());
  try {
    for (;;) {
      const b = await batchOf(server, id);
      if (check(b)) return b;
      await new Promise<void>((r) => {
        wake = r;
        setTimeout(r, 50);
      });
    }
  } finally {
    off();
  }
}

/** Counts of the members' states as listed (for comparing with the batch's own counts). */
async function memberCounts(server: TestServer, id: string): Promise<Record<string, number>> {
  const r = await server.api(`/v1/tasks?batch=${id}&limit=500`);
  expect(r.status).toBe(200);
  const counts: Record<string, number> = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const t of r.body.tasks as Task[]) counts[t.status]!++;
  return counts;
}

describe('batches', () => {
  it('a batch of 50 against a target that fails some: counts at each step, one signed batch.done, re-armed by retries', { timeout: 60_000 }, async () => {
    const secret = generateSecret();
    const server = await startServer({ signingSecret: secret });
    // Members whose payload is a multiple of 7 fail their first attempt for good (AQ-No-Retry);
    // while `hold` is set every request waits for it, so the running count can be read exactly.
    let release!: () => void;
    let hold: Promise<void> | undefined = new Promise((r) => (release = r));
    const target = await startTarget(async (req) => {
      if (hold) await hold;
      const fails = (req.json as number) % 7 === 0 && req.headers['aq-attempt'] === '1';
      return fails ? { status: 422, headers: { 'AQ-No-Retry': 'true' } } : { status: 200, body: { n: req.json } };
    });
    const hook = await startTarget();
    expect((await server.api('/v1/queues/b', { method: 'PUT', body: { paused: true, concurrency: 10 } })).status).toBe(200);

    const tasks = Array.from({ length: 50 }, (_, i) => taskInput(target.url, { queue: 'b', payload: i, retries: 0 }));
    const created = await server.api('/v1/tasks/batch', { body: { tasks, batch: { webhookUrl: hook.url + '/done', labels: ['invoices'] } } });
    expect(created.status).toBe(201);
    const id = created.body.batchId as string;
    expect(id).toMatch(/^bat_[0-9a-z]{24}$/);
    expect((created.body.tasks as Task[]).every((t) => t.batchId === id)).toBe(true);

    // Step 1: created, nothing running (the queue is paused).
    const fresh = await batchOf(server, id);
    expect(fresh).toMatchObject({ id, total: 50, counts: { pending: 50, running: 0, completed: 0, failed: 0, cancelled: 0 }, done: false, doneAt: null, labels: ['invoices'], webhook: null });
    // Waiting 0 seconds answers at once.
    expect((await batchOf(server, id, 0)).done).toBe(false);

    // Step 2: ten claimed and held at the target.
    expect((await server.api('/v1/queues/b', { method: 'PUT', body: { paused: false } })).status).toBe(200);
    await target.waitForRequests(10);
    const running = await batchOf(server, id);
    expect(running.counts).toEqual({ pending: 40, running: 10, completed: 0, failed: 0, cancelled: 0 });
    expect(await memberCounts(server, id)).toEqual(running.counts);

    // Step 3: every member ends; 8 of them (0, 7, …, 49) failed.
    const waiting = waitDone(server, id);
    hold = undefined;
    release();
    const done = await waiting;
    expect(done).toMatchObject({ total: 50, counts: { pending: 0, running: 0, completed: 42, failed: 8, cancelled: 0 }, done: true });
    expect(done.doneAt).not.toBeNull();
    expect(await memberCounts(server, id)).toEqual(done.counts);

    // One signed batch.done webhook, webhook-id <batch id>.1.
    const [first] = await hook.waitForRequests(1);
    expect(first!.headers['webhook-id']).toBe(`${id}.1`);
    expect(first!.headers['aq-batch-id']).toBe(id);
    expect(new Webhook(secret).verify(first!.body, first!.headers as Record<string, string>)).toMatchObject({
      type: 'batch.done',
      batch: { id, total: 50, counts: { pending: 0, running: 0, completed: 42, failed: 8, cancelled: 0 }, done: true, doneAt: done.doneAt },
    });

    // Retrying one failed member makes the batch not done; its end makes it done again: webhook .2.
    const failed = ((await server.api(`/v1/tasks?batch=${id}&status=failed&limit=500`)).body.tasks as Task[]);
    expect(failed).toHaveLength(8);
    expect((await server.api(`/v1/tasks/${failed[0]!.id}/retry`, { method: 'POST' })).status).toBe(200);
    const reopened = await batchOf(server, id);
    expect(reopened.done).toBe(false);
    expect(reopened.counts.failed).toBe(7);
    expect(reopened.counts.pending + reopened.counts.running + reopened.counts.completed).toBe(43);
    const again = await waitDone(server, id);
    expect(again.counts).toEqual({ pending: 0, running: 0, completed: 43, failed: 7, cancelled: 0 });
    const [, second] = await hook.waitForRequests(2);
    expect(second!.headers['webhook-id']).toBe(`${id}.2`);
    expect(second!.json).toMatchObject({ type: 'batch.done', batch: { counts: { completed: 43, failed: 7 } } });

    // The bulk retry takes a batch filter: the other 7 run again, and webhook .3 follows.
    const bulk = await server.api('/v1/tasks/retry', { body: { batch: id, status: 'failed' } });
    expect(bulk.body).toEqual({ count: 7 });
    const last = await waitDone(server, id);
    expect(last.counts).toEqual({ pending: 0, running: 0, completed: 50, failed: 0, cancelled: 0 });
    const [, , third] = await hook.waitForRequests(3);
    expect(third!.headers['webhook-id']).toBe(`${id}.3`);
    // Its delivery state is on the batch; nothing more was sent.
    await waitBatch(server, id, (b) => b.webhook?.status === 'delivered');
    expect(hook.requests).toHaveLength(3);
    expect(new Set(hook.requests.map((r) => r.headers['webhook-id'])).size).toBe(3);
  });

  it('cancelling the unfinished members of a batch makes it done with them counted cancelled', async () => {
    const server = await startServer();
    const hook = await startTarget();
    const target = await startTarget();
    expect((await server.api('/v1/queues/held', { method: 'PUT', body: { paused: true } })).status).toBe(200);
    const created = await server.api('/v1/tasks/batch', {
      body: { tasks: [taskInput(target.url, { queue: 'held' }), taskInput(target.url, { queue: 'held' })], batch: { webhookUrl: hook.url } },
    });
    const id = created.body.batchId as string;
    expect((await server.api('/v1/tasks/cancel', { body: { batch: id } })).body).toEqual({ count: 2 });
    const b = await waitDone(server, id);
    expect(b.counts).toEqual({ pending: 0, running: 0, completed: 0, failed: 0, cancelled: 2 });
    const [h] = await hook.waitForRequests(1);
    expect(h!.json).toMatchObject({ type: 'batch.done', batch: { id, counts: { cancelled: 2 } } });
  });

  it('a batch without a webhook is counted all the same, and a deleted member leaves its counts', async () => {
    const server = await startServer();
    const target = await startTarget();
    expect((await server.api('/v1/queues/held', { method: 'PUT', body: { paused: true } })).status).toBe(200);
    const created = await server.api('/v1/tasks/batch', { body: { tasks: [taskInput(target.url, { queue: 'held' }), taskInput(target.url)] } });
    const id = created.body.batchId as string;
    const held = (created.body.tasks as Task[])[0]!;
    expect((await server.api(`/v1/tasks/${held.id}`, { method: 'DELETE' })).status).toBe(204);
    const b = await waitDone(server, id);
    expect(b).toMatchObject({ total: 1, counts: { pending: 0, running: 0, completed: 1, failed: 0, cancelled: 0 }, done: true, webhook: null });
  });
});
