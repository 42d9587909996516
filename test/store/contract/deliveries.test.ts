// Shared store cases (SQLite and PostgreSQL), outcome webhooks (api.md §16): the outcome counter, the delivery history, re-delivery of one
// task and by filter, and the guards that keep a late answer from overwriting a newer state.
import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/store.js';
import { newTask, openStore, scalar, T0 } from './stores.js';

const HOOK = 'http://127.0.0.1:9/hook';
const iso = (ms: number) => new Date(ms).toISOString();

/** Creates a task with a webhook and runs its first attempt to `status` at T0 + 1. */
async function ended(store: Store, status: 'completed' | 'failed', extra: Parameters<typeof newTask>[0] = {}) {
  const [r] = await store.createTasks([newTask({ webhookUrl: HOOK, ...extra })]);
  const id = r!.task.id;
  const [c] = await store.claimTasks(new Map([['default', 1]]), T0);
  const next = status === 'completed' ? { status, resultJson: '{"ok":true}' } as const : { status, error: { type: 'http', status: 400, message: 'no' } } as const;
  await store.finishAttempts([{ id, attempt: c!.attempt, startedAt: T0, durationMs: 1, httpStatus: status === 'completed' ? 200 : 400, next, now: T0 + 1 }]);
  return id;
}

const fail503 = { status: 'pending', runAt: 0, error: { type: 'http', status: 503, message: 'HTTP 503' } } as const;

describe('outcome deliveries', () => {
  it('each delivery attempt is kept in the history with its outcome, status and duration, oldest first', async () => {
    const store = await openStore();
    const id = await ended(store, 'completed');
    const [d1] = await store.claimDeliveries(10, T0 + 2);
    expect(d1).toMatchObject({ id, outcome: 1, attempt: 1, attemptsBase: 0 });
    expect(await store.listDeliveries(id)).toEqual([{ outcome: 1, attempt: 1, startedAt: iso(T0 + 2), durationMs: null }]);
    await store.finishDeliveries([{ id, outcome: 1, attempt: 1, durationMs: 7, httpStatus: 503, next: { ...fail503, runAt: T0 + 10 }, now: T0 + 9 }]);
    const [d2] = await store.claimDeliveries(10, T0 + 10);
    expect(d2).toMatchObject({ outcome: 1, attempt: 2 });
    await store.finishDeliveries([{ id, outcome: 1, attempt: 2, durationMs: 3, httpStatus: 204, next: { status: 'delivered' }, now: T0 + 13 }]);
    expect(await store.listDeliveries(id)).toEqual([
      { outcome: 1, attempt: 1, startedAt: iso(T0 + 2), durationMs: 7, status: 503, error: fail503.error },
      { outcome: 1, attempt: 2, startedAt: iso(T0 + 10), durationMs: 3, status: 204 },
    ]);
    expect((await store.getTask(id))!.webhook).toEqual({ status: 'delivered', attempts: 2, error: null });
    expect(await store.listDeliveries('tsk_nope')).toBeUndefined();
  });

  it('a manual retry that ends the task again makes outcome 2, whose attempts count from 1', async () => {
    const store = await openStore();
    const id = await ended(store, 'failed');
    const [d1] = await store.claimDeliveries(10, T0 + 2);
    await store.finishDeliveries([{ id, outcome: 1, attempt: d1!.attempt, durationMs: 1, httpStatus: 200, next: { status: 'delivered' }, now: T0 + 3 }]);
    expect((await store.retryTask(id, T0 + 4)).ok).toBe(true);
    const [c] = await store.claimTasks(new Map([['default', 1]]), T0 + 5);
    await store.finishAttempts([{ id, attempt: c!.attempt, startedAt: T0 + 5, durationMs: 1, httpStatus: 200, next: { status: 'completed', resultJson: '1' }, now: T0 + 6 }]);
    const [d2] = await store.claimDeliveries(10, T0 + 7);
    expect(d2).toMatchObject({ outcome: 2, attempt: 1 });
    expect(JSON.parse(d2!.bodyJson)).toMatchObject({ status: 'completed', result: 1, attempts: 2 });
    expect((await store.listDeliveries(id))!.map((d) => [d.outcome, d.attempt])).toEqual([[1, 1], [2, 1]]);
  });

  it('a late answer to a delivery of an outcome the task has moved past changes nothing but its history row', async () => {
    const store = await openStore();
    const id = await ended(store, 'failed');
    await store.claimDeliveries(10, T0 + 2); // outcome 1, attempt 1 in flight
    await store.retryTask(id, T0 + 3);
    const [c] = await store.claimTasks(new Map([['default', 1]]), T0 + 4);
    await store.finishAttempts([{ id, attempt: c!.attempt, startedAt: T0 + 4, durationMs: 1, httpStatus: 200, next: { status: 'completed', resultJson: '1' }, now: T0 + 5 }]);
    await store.claimDeliveries(10, T0 + 6); // outcome 2, attempt 1 in flight
    await store.finishDeliveries([{ id, outcome: 1, attempt: 1, durationMs: 9, httpStatus: 200, next: { status: 'delivered' }, now: T0 + 7 }]);
    expect((await store.getTask(id))!.webhook).toEqual({ status: 'pending', attempts: 1, error: null });
    expect(await store.listDeliveries(id)).toMatchObject([{ outcome: 1, attempt: 1, durationMs: 9, status: 200 }, { outcome: 2, attempt: 1, durationMs: null }]);
  });

  it('re-delivery sends the same outcome again, due now, with a fresh set of webhookRetries', async () => {
    const store = await openStore();
    const id = await ended(store, 'completed', { webhookRetries: 0 });
    const [d1] = await store.claimDeliveries(10, T0 + 2);
    await store.finishDeliveries([{ id, outcome: 1, attempt: 1, durationMs: 1, httpStatus: 503, next: { status: 'failed', error: fail503.error }, now: T0 + 3 }]);
    expect((await store.getTask(id))!.webhook).toMatchObject({ status: 'failed', attempts: 1 });
    expect(await store.nextDeliveryAt()).toBeNull();
    const r = await store.redeliverTask(id, T0 + 100);
    expect(r).toMatchObject({ ok: true, task: { id, status: 'completed', webhook: { status: 'pending', attempts: 1 } } });
    expect(await store.nextDeliveryAt()).toBe(T0 + 100);
    const [d2] = await store.claimDeliveries(10, T0 + 100);
    expect(d2).toMatchObject({ outcome: 1, attempt: 2, attemptsBase: 1, webhookRetries: 0 });
    expect(d2!.bodyJson).toBe(d1!.bodyJson);
  });

  it('re-delivery while a delivery is in flight leaves it in flight with fresh retries', async () => {
    const store = await openStore();
    const id = await ended(store, 'completed');
    await store.claimDeliveries(10, T0 + 2);
    expect((await store.redeliverTask(id, T0 + 3)).ok).toBe(true);
    expect(await store.claimDeliveries(10, T0 + 4)).toEqual([]);
    await store.finishDeliveries([{ id, outcome: 1, attempt: 1, durationMs: 1, httpStatus: 200, next: { status: 'delivered' }, now: T0 + 5 }]);
    expect((await store.getTask(id))!.webhook).toMatchObject({ status: 'delivered', attempts: 1 });
  });

  it('re-delivery is refused for a missing task, one without a webhookUrl, and one that is not completed or failed', async () => {
    const store = await openStore();
    expect(await store.redeliverTask('tsk_nope', T0)).toEqual({ ok: false, reason: 'not_found' });
    const [plain, pending] = await store.createTasks([newTask(), newTask({ webhookUrl: HOOK })]);
    expect(await store.redeliverTask(pending!.task.id, T0)).toEqual({ ok: false, reason: 'conflict' });
    await store.cancelTask(pending!.task.id, T0);
    expect(await store.redeliverTask(pending!.task.id, T0)).toEqual({ ok: false, reason: 'conflict' });
    await store.claimTasks(new Map([['default', 1]]), T0);
    await store.finishAttempts([{ id: plain!.task.id, attempt: 1, startedAt: T0, durationMs: 1, httpStatus: 200, next: { status: 'completed', resultJson: null }, now: T0 + 1 }]);
    expect(await store.redeliverTask(plain!.task.id, T0 + 2)).toEqual({ ok: false, reason: 'conflict' });
  });

  it('bulk re-delivery takes the filter and the webhook state, and only tasks with an outcome to send', async () => {
    const store = await openStore();
    const a = await ended(store, 'completed', { webhookRetries: 0, labels: ['x'] });
    const b = await ended(store, 'failed', { webhookRetries: 0 });
    const c = await ended(store, 'completed', { webhookRetries: 0, labels: ['x'] });
    const claimed = await store.claimDeliveries(10, T0 + 2);
    expect(claimed).toHaveLength(3);
    const finish = (id: string, ok: boolean) => ({
      id, outcome: 1, attempt: 1, durationMs: 1, httpStatus: ok ? 200 : 500,
      next: ok ? ({ status: 'delivered' } as const) : ({ status: 'failed', error: fail503.error } as const), now: T0 + 3,
    });
    await store.finishDeliveries([finish(a, false), finish(b, false), finish(c, true)]);
    await store.createTasks([newTask({ webhookUrl: HOOK, labels: ['x'] })]); // pending: nothing to deliver
    expect(await store.redeliverMany({ label: 'x', webhookStatus: 'failed' }, T0 + 10)).toEqual({ count: 1 });
    expect((await store.getTask(a))!.webhook!.status).toBe('pending');
    expect((await store.getTask(c))!.webhook!.status).toBe('delivered');
    expect(await store.redeliverMany({ status: 'failed', webhookStatus: 'failed' }, T0 + 10)).toEqual({ count: 1 });
    expect(await store.redeliverMany({ webhookStatus: 'delivered' }, T0 + 10)).toEqual({ count: 1 });
    expect((await store.claimDeliveries(10, T0 + 10)).map((d) => d.id).sort()).toEqual([a, b, c].sort());
  });

  it('after a crash a delivery in flight is recorded interrupted and sent again as the next attempt', async () => {
    const store = await openStore();
    const id = await ended(store, 'completed');
    await store.claimDeliveries(10, T0 + 2);
    expect(await store.recoverInterrupted(T0 + 50)).toEqual({ tasks: 0, deliveries: 1 });
    expect(await store.listDeliveries(id)).toEqual([{ outcome: 1, attempt: 1, startedAt: iso(T0 + 2), durationMs: 48, error: expect.objectContaining({ type: 'interrupted' }) }]);
    expect(await store.claimDeliveries(10, T0 + 50)).toMatchObject([{ id, outcome: 1, attempt: 2 }]);
  });

  it('deleting and purging a task removes its delivery history', async () => {
    const store = await openStore();
    const a = await ended(store, 'completed');
    const b = await ended(store, 'completed');
    for (const d of await store.claimDeliveries(10, T0 + 2)) {
      await store.finishDeliveries([{ id: d.id, outcome: 1, attempt: 1, durationMs: 1, httpStatus: 200, next: { status: 'delivered' }, now: T0 + 3 }]);
    }
    await store.deleteTask(a, T0 + 4);
    expect(await store.purgeExpired(T0 + 10, 10)).toBe(1);
    expect(await store.listDeliveries(b)).toBeUndefined();
    expect(await scalar(store, 'SELECT COUNT(*) AS n FROM deliveries')).toBe(0);
  });
});
