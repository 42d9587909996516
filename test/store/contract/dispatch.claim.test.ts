import { describe, expect, it } from 'vitest';
// Shared store cases (SQLite and PostgreSQL): claims, finishes, recovery, counts, purge.
import { newTask, openStore, T0 } from './stores.js';

describe('claiming and finishing attempts', () => {
  it('claims due tasks of a queue by priority, then run time, and never a future one', async () => {
    const store = await openStore();
    const [low, high, early, future] = await store.createTasks([
      newTask({ priority: -5 }, T0),
      newTask({ priority: 10 }, T0 + 5),
      newTask({ runAt: new Date(T0 - 1000).toISOString() }, T0),
      newTask({ delay: 60 }, T0),
    ]);
    const claimed = await store.claimTasks(new Map([['default', 10]]), T0 + 10);
    expect(claimed.map((c) => c.id)).toEqual([high!.task.id, early!.task.id, low!.task.id]);
    expect(claimed.every((c) => c.attempt === 1)).toBe(true);
    expect((await store.getTask(future!.task.id))!.status).toBe('pending');
    expect((await store.getTask(high!.task.id))!.status).toBe('running');
    expect(await store.dueQueues(['default'], T0 + 10)).toEqual([]);
    expect(await store.nextDueAt(['default'])).toBe(T0 + 60_000);
  });

  it('a claim spans priority levels, highest first, each in run-time order, past levels that hold only future tasks', async () => {
    const store = await openStore();
    const at = (priority: number, ms: number) => newTask({ priority, runAt: new Date(T0 + ms).toISOString() }, T0);
    const rows = await store.createTasks([
      at(9, 60_000), at(9, 70_000), // the top level: only future tasks
      at(3, -10), at(3, -30),
      at(0, -5), at(0, -25), at(0, -15),
      at(-2, -100),
    ]);
    const ids = rows.map((r) => r!.task.id);
    const first = await store.claimTasks(new Map([['default', 4]]), T0);
    expect(first.map((c) => c.id)).toEqual([ids[3], ids[2], ids[5], ids[6]]);
    const rest = await store.claimTasks(new Map([['default', 10]]), T0);
    expect(rest.map((c) => c.id)).toEqual([ids[4], ids[7]]);
    expect(await store.claimTasks(new Map([['default', 10]]), T0)).toEqual([]);
    expect((await store.getTask(ids[0]!))!.status).toBe('pending');
    expect(await store.nextDueAt(['default'])).toBe(T0 + 60_000);
  });

  it('a late answer cannot overwrite a cancel: the attempt is recorded, the task stays cancelled', async () => {
    const store = await openStore();
    const [r] = await store.createTasks([newTask()]);
    const [c] = await store.claimTasks(new Map([['default', 1]]), T0);
    await store.cancelTask(r!.task.id, T0 + 1);
    const [applied] = await store.finishAttempts([
      { id: c!.id, attempt: 1, startedAt: T0, durationMs: 5, httpStatus: 200, next: { status: 'completed', resultJson: '{"ok":true}' }, now: T0 + 5 },
    ]);
    expect(applied).toBe(false);
    expect((await store.getTask(r!.task.id))!.status).toBe('cancelled');
    expect(await store.listAttempts(r!.task.id)).toEqual([{ n: 1, startedAt: new Date(T0).toISOString(), durationMs: 5, status: 200 }]);
  });

  it('completing a task with a webhook opens its delivery in the same write', async () => {
    const store = await openStore();
    const [r] = await store.createTasks([newTask({ webhookUrl: 'http://127.0.0.1:9/hook' })]);
    await store.claimTasks(new Map([['default', 1]]), T0);
    await store.finishAttempts([{ id: r!.task.id, attempt: 1, startedAt: T0, durationMs: 1, httpStatus: 200, next: { status: 'completed', resultJson: '[1,2]' }, now: T0 + 1 }]);
    const t = (await store.getTask(r!.task.id))!;
    expect(t).toMatchObject({ status: 'completed', result: [1, 2], webhook: { status: 'pending', attempts: 0, error: null } });
    const [d] = await store.claimDeliveries(10, T0 + 2);
    expect(JSON.parse(d!.bodyJson)).toEqual({
      id: r!.task.id, status: 'completed', queue: 'default', payload: { n: 1 }, result: [1, 2], error: null, attempts: 1, completedAt: new Date(T0 + 1).toISOString(),
    });
    await store.finishDeliveries([{ id: d!.id, outcome: 1, attempt: 1, durationMs: 1, httpStatus: 200, next: { status: 'delivered' }, now: T0 + 3 }]);
    expect((await store.getTask(r!.task.id))!.webhook).toEqual({ status: 'delivered', attempts: 1, error: null });
  });

  it('after a crash, running tasks go back to pending with an interrupted attempt, even on their last attempt', async () => {
    const store = await openStore();
    const [a, b] = await store.createTasks([newTask(), newTask({ retries: 0, webhookUrl: 'http://127.0.0.1:9/h' })]);
    await store.claimTasks(new Map([['default', 2]]), T0);
    const r = await store.recoverInterrupted(T0 + 100);
    expect(r).toEqual({ tasks: 2, deliveries: 0 });
    const ta = (await store.getTask(a!.task.id))!;
    expect(ta).toMatchObject({ status: 'pending', attempts: 1, error: { type: 'interrupted' } });
    expect((await store.listAttempts(a!.task.id))![0]).toMatchObject({ n: 1, durationMs: 100, error: { type: 'interrupted' } });
    expect(await store.getTask(b!.task.id)).toMatchObject({ status: 'pending', attempts: 1, webhook: null });
  });

  it('retry keeps the attempt history and gives a fresh set of retries', async () => {
    const store = await openStore();
    const [r] = await store.createTasks([newTask({ retries: 0 })]);
    const [c] = await store.claimTasks(new Map([['default', 1]]), T0);
    const err = { type: 'http' as const, status: 500, message: 'HTTP 500' };
    await store.finishAttempts([{ id: c!.id, attempt: 1, startedAt: T0, durationMs: 1, httpStatus: 500, error: err, next: { status: 'failed', error: err }, now: T0 + 1 }]);
    expect(await store.retryTask(r!.task.id, T0 + 2)).toMatchObject({ ok: true, previous: 'failed', task: { status: 'pending', attempts: 1, error: null } });
    expect(await store.retryTask(r!.task.id, T0 + 2)).toEqual({ ok: false, reason: 'conflict' });
    const [again] = await store.claimTasks(new Map([['default', 1]]), T0 + 3);
    expect(again).toMatchObject({ attempt: 2, attemptsBase: 1 });
    expect(await store.cancelTask('tsk_nope', T0)).toEqual({ ok: false, reason: 'not_found' });
  });

  it('keeps counts by queue and state exact through every transition, bulk ones included', async () => {
    const store = await openStore();
    await store.createTasks([newTask({ queue: 'a' }), newTask({ queue: 'a' }), newTask({ queue: 'b', labels: ['x'] })]);
    await store.claimTasks(new Map([['a', 1]]), T0);
    expect((await store.cancelMany({ label: 'x' }, T0)).count).toBe(1);
    const stats = await store.stats(T0);
    expect(stats.queues.a).toMatchObject({ pending: 1, running: 1 });
    expect(stats.queues.b).toMatchObject({ pending: 0, cancelled: 1 });
    expect(stats.counts).toMatchObject({ pending: 1, running: 1, cancelled: 1, completed: 0, failed: 0 });
    expect(stats.perMinute).toHaveLength(60);
    expect((await store.retryMany({ queue: 'b' }, T0)).count).toBe(1);
    expect((await store.stats(T0)).counts).toMatchObject({ pending: 2, cancelled: 0 });
  });

  it('purges expired terminal tasks in batches, keeping ones whose webhook is still owed', async () => {
    const store = await openStore();
    const created = await store.createTasks(Array.from({ length: 25 }, () => newTask()));
    await store.createTasks([newTask({ webhookUrl: 'http://127.0.0.1:9/h' })]);
    await store.cancelMany({ status: 'pending' }, T0);
    const [owed] = await store.createTasks([newTask({ webhookUrl: 'http://127.0.0.1:9/h' })]);
    await store.claimTasks(new Map([['default', 1]]), T0);
    await store.finishAttempts([{ id: owed!.task.id, attempt: 1, startedAt: T0, durationMs: 1, httpStatus: 200, next: { status: 'completed', resultJson: null }, now: T0 }]);
    expect(await store.purgeExpired(T0 + 1, 10)).toBe(10);
    expect(await store.purgeExpired(T0 + 1, 100)).toBe(16);
    expect(await store.purgeExpired(T0 + 1, 100)).toBe(0);
    expect(await store.getTask(created[0]!.task.id)).toBeUndefined();
    expect(await store.getTask(owed!.task.id)).toBeDefined();
    expect((await store.stats(T0)).counts.cancelled).toBe(0);
  });
});
