// The store's side of async completion (api.md §10), with explicit times: a 202 opens the
// attempt, every end is guarded (one winner, a late sync answer ignored, a timeout only past the
// deadline), heartbeats move the deadline within async.timeout, recovery leaves open attempts
// alone, and the deadline queries the dispatcher's timer uses.
import { describe, expect, it } from 'vitest';
import { newTask, openStore, T0 } from './stores.js';

async function openAttempt(timeout = 600) {
  const store = await openStore();
  const [r] = await store.createTasks([newTask({ async: { timeout, heartbeat: 60 }, retries: 1 })]);
  const [c] = await store.claimTasks(new Map([['default', 1]]), T0);
  expect(c!.async).toEqual({ timeoutMs: timeout * 1000, heartbeatMs: 60_000 });
  expect(await store.acceptAttempts([{ id: c!.id, attempt: 1, startedAt: T0, now: T0 + 100, deadline: T0 + 60_100 }])).toEqual([true]);
  return { store, id: r!.task.id };
}

describe('async attempts in the store', () => {
  it('a 202 opens the attempt: awaiting on the task, status 202 on the attempt, the deadline queryable', async () => {
    const { store, id } = await openAttempt();
    const t = (await store.getTask(id))!;
    expect(t).toMatchObject({ status: 'running', async: { timeout: 600, heartbeat: 60 } });
    expect(t.awaiting).toEqual({ attempt: 1, since: new Date(T0 + 100).toISOString(), deadline: new Date(T0 + 60_100).toISOString(), heartbeatAt: null });
    const [a] = (await store.listAttempts(id))!;
    expect(a).toMatchObject({ n: 1, status: 202, durationMs: null, async: { acceptedAt: new Date(T0 + 100).toISOString(), ended: null } });
    expect(await store.nextAsyncDeadline()).toBe(T0 + 60_100);
    expect(await store.expiredAttempts(T0 + 60_099, 10)).toEqual([]);
    expect((await store.expiredAttempts(T0 + 60_100, 10)).map((s) => s.id)).toEqual([id]);
  });

  it('a late synchronous answer of the same attempt cannot end an open attempt', async () => {
    const { store, id } = await openAttempt();
    const [applied] = await store.finishAttempts([{ id, attempt: 1, startedAt: T0, durationMs: 5, httpStatus: 500, error: { type: 'http', status: 500, message: 'x' }, next: { status: 'failed', error: { type: 'http', status: 500, message: 'x' } }, now: T0 + 200 }]);
    expect(applied).toBe(false);
    expect((await store.getTask(id))!.awaiting).not.toBeNull();
  });

  it('of two ends of one attempt exactly one applies; the attempt says how it ended', async () => {
    const { store, id } = await openAttempt();
    const [a, b] = await Promise.all([
      store.endAsyncAttempt({ id, attempt: 1, ended: 'completed', next: { status: 'completed', resultJson: '{"ok":1}' }, now: T0 + 1000 }),
      store.endAsyncAttempt({ id, attempt: 1, ended: 'failed', next: { status: 'failed', error: { type: 'async', message: 'no' } }, now: T0 + 1000 }),
    ]);
    expect([a?.status, b?.status]).toEqual(['completed', undefined]);
    expect((await store.asyncAttempt(id, 1))!.ended).toBe('completed');
    const [att] = (await store.listAttempts(id))!;
    expect(att).toMatchObject({ durationMs: 1000, async: { ended: 'completed', endedAt: new Date(T0 + 1000).toISOString() } });
    expect(await store.nextAsyncDeadline()).toBeNull();
  });

  it('complete and fail need the deadline ahead; a timeout needs it passed', async () => {
    const { store, id } = await openAttempt();
    const late = { id, attempt: 1, ended: 'completed' as const, next: { status: 'completed' as const, resultJson: null }, now: T0 + 60_100 };
    expect(await store.endAsyncAttempt(late)).toBeUndefined();
    const early = { id, attempt: 1, ended: 'timeout' as const, next: { status: 'pending' as const, runAt: T0 + 70_000, error: { type: 'timeout' as const, message: 't' } }, now: T0 + 60_099 };
    expect(await store.endAsyncAttempt(early)).toBeUndefined();
    const timedOut = await store.endAsyncAttempt({ ...early, now: T0 + 60_100 });
    expect(timedOut).toMatchObject({ status: 'pending', awaiting: null, error: { type: 'timeout' } });
    // The next claim opens attempt 2; attempt 1's end is in its record.
    const [c2] = await store.claimTasks(new Map([['default', 1]]), T0 + 70_000);
    expect(c2!.attempt).toBe(2);
    expect(await store.endAsyncAttempt({ ...late, now: T0 + 70_001 })).toBeUndefined();
    expect((await store.asyncAttempt(id, 1))!.ended).toBe('timeout');
  });

  it('heartbeats move the deadline to now + heartbeat, never past since + timeout, and only while open', async () => {
    const { store, id } = await openAttempt(100);
    expect(await store.heartbeatAttempt(id, 1, T0 + 30_000)).toBe(T0 + 90_000);
    expect(await store.heartbeatAttempt(id, 1, T0 + 20_000)).toBe(T0 + 90_000); // never earlier
    expect(await store.heartbeatAttempt(id, 1, T0 + 50_000)).toBe(T0 + 100_100); // since + timeout
    expect(await store.heartbeatAttempt(id, 2, T0 + 60_000)).toBeUndefined();
    expect((await store.getTask(id))!.awaiting!.heartbeatAt).toBe(new Date(T0 + 50_000).toISOString());
    expect(await store.heartbeatAttempt(id, 1, T0 + 100_100)).toBeUndefined();
  });

  it('recovery after a crash leaves open attempts alone and resets the others', async () => {
    const { store, id } = await openAttempt();
    const [other] = await store.createTasks([newTask()]);
    await store.claimTasks(new Map([['default', 5]]), T0 + 1);
    expect(await store.recoverInterrupted(T0 + 500)).toEqual({ tasks: 1, deliveries: 0 });
    expect((await store.getTask(id))!.awaiting).toMatchObject({ attempt: 1 });
    expect((await store.getTask(other!.task.id))!.status).toBe('pending');
  });

  it('a cancel closes the open attempt and clears awaiting; bulk cancel too', async () => {
    const { store, id } = await openAttempt();
    await store.cancelTask(id, T0 + 5000);
    expect((await store.getTask(id))!.awaiting).toBeNull();
    expect((await store.listAttempts(id))![0]).toMatchObject({ durationMs: 5000, error: { type: 'cancelled' }, async: { ended: 'cancelled' } });
    expect(await store.nextAsyncDeadline()).toBeNull();
  });

  it('initSetting keeps the first value', async () => {
    const store = await openStore();
    expect(await store.initSetting('k', 'a')).toBe('a');
    expect(await store.initSetting('k', 'b')).toBe('a');
  });
});
