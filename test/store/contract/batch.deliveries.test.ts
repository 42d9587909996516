// Shared store cases (SQLite and PostgreSQL), a batch's batch.done webhook (api.md §13, §16): its
// delivery history, re-delivery with the same outcome and fresh retries, the refusals, and the
// recovery that closes every open history row a crash left, also one superseded while in flight.
import { describe, expect, it } from 'vitest';
import { newId } from '../../../src/shared/ids.js';
import type { Store } from '../../../src/store/store.js';
import { newTask, openStore, T0 } from './stores.js';

const HOOK = 'http://127.0.0.1:9/done';
const iso = (ms: number) => new Date(ms).toISOString();
const fail = { type: 'http', status: 503, message: 'HTTP 503' } as const;

/** A batch of one member (with `webhookUrl` unless null), whose member has ended `status` at T0 + 1: the batch is done. */
async function doneBatch(store: Store, status: 'completed' | 'failed' = 'completed', webhookUrl: string | null = HOOK) {
  const batchId = newId(T0, 'bat_');
  const [r] = await store.createTasks([{ ...newTask(), batchId }], undefined, { id: batchId, webhookUrl, labels: [], createdAt: T0 });
  const member = r!.task.id;
  await end(store, member, status, T0 + 1);
  return { batchId, member };
}

async function end(store: Store, id: string, status: 'completed' | 'failed', now: number) {
  const [c] = await store.claimTasks(new Map([['default', 1]]), now);
  expect(c?.id).toBe(id);
  const next = status === 'completed' ? ({ status, resultJson: '1' } as const) : ({ status, error: { type: 'http', status: 400, message: 'no' } } as const);
  await store.finishAttempts([{ id, attempt: c!.attempt, startedAt: now, durationMs: 1, httpStatus: status === 'completed' ? 200 : 400, next, now, batchId: c!.batchId }]);
}

describe('batch.done deliveries', () => {
  it('each delivery attempt of a batch.done is kept in the batch history, oldest first; unknown ids have none', async () => {
    const store = await openStore();
    const { batchId, member } = await doneBatch(store);
    expect(await store.listBatchDeliveries(batchId)).toEqual([]);
    const [d1] = await store.claimDeliveries(10, T0 + 2);
    expect(d1).toMatchObject({ id: batchId, kind: 'batch', outcome: 1, attempt: 1, attemptsBase: 0 });
    expect(await store.listBatchDeliveries(batchId)).toEqual([{ outcome: 1, attempt: 1, startedAt: iso(T0 + 2), durationMs: null }]);
    await store.finishDeliveries([{ id: batchId, outcome: 1, attempt: 1, durationMs: 7, httpStatus: 503, next: { status: 'pending', runAt: T0 + 10, error: fail }, now: T0 + 9 }]);
    const [d2] = await store.claimDeliveries(10, T0 + 10);
    expect(d2).toMatchObject({ id: batchId, outcome: 1, attempt: 2 });
    await store.finishDeliveries([{ id: batchId, outcome: 1, attempt: 2, durationMs: 3, httpStatus: 204, next: { status: 'delivered' }, now: T0 + 13 }]);
    expect(await store.listBatchDeliveries(batchId)).toEqual([
      { outcome: 1, attempt: 1, startedAt: iso(T0 + 2), durationMs: 7, status: 503, error: fail },
      { outcome: 1, attempt: 2, startedAt: iso(T0 + 10), durationMs: 3, status: 204 },
    ]);
    expect((await store.getBatch(batchId))!.webhook).toEqual({ status: 'delivered', attempts: 2, error: null });
    // A batch's history is not a task's, and the other way round.
    expect(await store.listDeliveries(batchId)).toBeUndefined();
    expect(await store.listBatchDeliveries(member)).toBeUndefined();
    expect(await store.listBatchDeliveries('bat_nope')).toBeUndefined();
  });

  it('re-delivery sends the same batch.done again, due now, with a fresh set of retries', async () => {
    const store = await openStore();
    const { batchId } = await doneBatch(store);
    const [d1] = await store.claimDeliveries(10, T0 + 2);
    await store.finishDeliveries([{ id: batchId, outcome: 1, attempt: 1, durationMs: 1, httpStatus: 503, next: { status: 'failed', error: fail }, now: T0 + 3 }]);
    expect((await store.getBatch(batchId))!.webhook).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await store.nextDeliveryAt()).toBeNull();
    const r = await store.redeliverBatch(batchId, T0 + 100);
    expect(r).toMatchObject({ ok: true, batch: { id: batchId, done: true, webhook: { status: 'pending', attempts: 1 } } });
    expect(await store.nextDeliveryAt()).toBe(T0 + 100);
    const [d2] = await store.claimDeliveries(10, T0 + 100);
    expect(d2).toMatchObject({ id: batchId, kind: 'batch', outcome: 1, attempt: 2, attemptsBase: 1 });
    expect(d2!.bodyJson).toBe(d1!.bodyJson);
    await store.finishDeliveries([{ id: batchId, outcome: 1, attempt: 2, durationMs: 1, httpStatus: 200, next: { status: 'delivered' }, now: T0 + 101 }]);
    expect((await store.listBatchDeliveries(batchId))!.map((d) => [d.outcome, d.attempt, d.status])).toEqual([[1, 1, 503], [1, 2, 200]]);
  });

  it('re-delivery while the batch.done is in flight leaves it in flight with fresh retries', async () => {
    const store = await openStore();
    const { batchId } = await doneBatch(store);
    await store.claimDeliveries(10, T0 + 2);
    expect(await store.redeliverBatch(batchId, T0 + 3)).toMatchObject({ ok: true, batch: { webhook: { status: 'pending', attempts: 1 } } });
    expect(await store.claimDeliveries(10, T0 + 4)).toEqual([]);
    await store.finishDeliveries([{ id: batchId, outcome: 1, attempt: 1, durationMs: 1, httpStatus: 200, next: { status: 'delivered' }, now: T0 + 5 }]);
    expect((await store.getBatch(batchId))!.webhook).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('re-delivery is refused for a missing batch, one not done, and one without a webhookUrl', async () => {
    const store = await openStore();
    expect(await store.redeliverBatch('bat_nope', T0)).toEqual({ ok: false, reason: 'not_found' });
    const plain = await doneBatch(store, 'completed', null);
    expect(await store.redeliverBatch(plain.batchId, T0 + 2)).toEqual({ ok: false, reason: 'conflict' });
    const open = newId(T0, 'bat_');
    await store.createTasks([{ ...newTask({ delay: 3600 }), batchId: open }], undefined, { id: open, webhookUrl: HOOK, labels: [], createdAt: T0 });
    expect(await store.redeliverBatch(open, T0 + 2)).toEqual({ ok: false, reason: 'conflict' });
    // Done once, then not done again (a member retried): refused until it is done again.
    const again = await doneBatch(store, 'failed');
    expect((await store.retryTask(again.member, T0 + 3)).ok).toBe(true);
    expect(await store.redeliverBatch(again.batchId, T0 + 4)).toEqual({ ok: false, reason: 'conflict' });
    // A task id is not a batch.
    expect(await store.redeliverBatch(again.member, T0 + 4)).toEqual({ ok: false, reason: 'not_found' });
  });

  it('after a crash every open history row is closed interrupted, also one superseded while in flight', async () => {
    const store = await openStore();
    const { batchId, member } = await doneBatch(store, 'failed');
    await store.claimDeliveries(10, T0 + 2); // outcome 1, attempt 1 in flight
    // The member is retried and completes: the batch is done again (outcome 2), due; outcome 1's attempt is still open.
    expect((await store.retryTask(member, T0 + 3)).ok).toBe(true);
    await end(store, member, 'completed', T0 + 4);
    expect((await store.getBatch(batchId))!.webhook).toMatchObject({ status: 'pending', attempts: 0 });
    const [d2] = await store.claimDeliveries(10, T0 + 5); // outcome 2, attempt 1 in flight
    expect(d2).toMatchObject({ id: batchId, outcome: 2, attempt: 1 });
    expect(await store.recoverInterrupted(T0 + 50)).toEqual({ tasks: 0, deliveries: 1 });
    const interrupted = expect.objectContaining({ type: 'interrupted' });
    expect(await store.listBatchDeliveries(batchId)).toEqual([
      { outcome: 1, attempt: 1, startedAt: iso(T0 + 2), durationMs: 48, error: interrupted },
      { outcome: 2, attempt: 1, startedAt: iso(T0 + 5), durationMs: 45, error: interrupted },
    ]);
    expect(await store.claimDeliveries(10, T0 + 50)).toMatchObject([{ id: batchId, kind: 'batch', outcome: 2, attempt: 2 }]);
  });
});
