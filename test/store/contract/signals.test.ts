// Shared store cases (SQLite and PostgreSQL), store.signals: every committed task state change
// is announced once, right after its commit and before the write resolves, with the task's id,
// queue, new status, attempts and time; a write that changes nothing announces nothing.
import { describe, expect, it } from 'vitest';
import type { TaskEvent } from '../../../src/shared/types.js';
import type { Store } from '../../../src/store/store.js';
import { newTask, openStore, T0 } from './stores.js';

function record(store: Store) {
  const seen: TaskEvent[] = [];
  store.signals.on((events, origin) => {
    expect(origin).toBe('local');
    seen.push(...events);
  });
  const take = () => seen.splice(0).map((e) => [e.id, e.queue, e.status, e.attempts, e.at]);
  return { take };
}

const iso = (ms: number) => new Date(ms).toISOString();

describe('store signals', () => {
  it('announce creates, claims, ends, cancels, retries, deletes and bulk actions, each once', async () => {
    const store = await openStore();
    const s = record(store);
    const made = await store.createTasks([newTask({ queue: 'q' }), newTask({ queue: 'q' }), newTask({ queue: 'q', idempotencyKey: 'k' })]);
    const [a, b, c] = made.map((m) => m.task.id) as [string, string, string];
    expect(s.take()).toEqual([a, b, c].map((id) => [id, 'q', 'pending', 0, iso(T0)]));
    // An idempotent repeat creates nothing and announces nothing.
    await store.createTasks([newTask({ queue: 'q', idempotencyKey: 'k' })]);
    expect(s.take()).toEqual([]);

    const claimed = await store.claimTasks(new Map([['q', 2]]), T0 + 1);
    expect(claimed.map((t) => t.id)).toEqual([a, b]);
    expect(s.take()).toEqual([[a, 'q', 'running', 1, iso(T0 + 1)], [b, 'q', 'running', 1, iso(T0 + 1)]]);

    const applied = await store.finishAttempts([
      { id: a, attempt: 1, startedAt: T0 + 1, durationMs: 1, httpStatus: 200, next: { status: 'completed', resultJson: null }, now: T0 + 2 },
      { id: b, attempt: 1, startedAt: T0 + 1, durationMs: 1, httpStatus: 500, next: { status: 'pending', runAt: T0 + 10, error: { type: 'http', status: 500, message: 'HTTP 500' } }, now: T0 + 2 },
      // a late answer for an attempt the task is not running: recorded nowhere, announced never
      { id: c, attempt: 1, startedAt: T0 + 1, durationMs: 1, httpStatus: 200, next: { status: 'completed', resultJson: null }, now: T0 + 2 },
    ]);
    expect(applied).toEqual([true, true, false]);
    expect(s.take()).toEqual([[a, 'q', 'completed', 1, iso(T0 + 2)], [b, 'q', 'pending', 1, iso(T0 + 2)]]);

    expect((await store.cancelTask(b, T0 + 3)).ok).toBe(true);
    expect(s.take()).toEqual([[b, 'q', 'cancelled', 1, iso(T0 + 3)]]);
    expect((await store.cancelTask(b, T0 + 3)).ok).toBe(false);
    expect(s.take()).toEqual([]);
    expect((await store.retryTask(b, T0 + 4)).ok).toBe(true);
    expect(s.take()).toEqual([[b, 'q', 'pending', 1, iso(T0 + 4)]]);

    expect((await store.cancelMany({ queue: 'q' }, T0 + 5)).count).toBe(2);
    expect(s.take().sort()).toEqual([[b, 'q', 'cancelled', 1, iso(T0 + 5)], [c, 'q', 'cancelled', 0, iso(T0 + 5)]].sort());
    expect((await store.retryMany({ ids: [c] }, T0 + 6)).count).toBe(1);
    expect(s.take()).toEqual([[c, 'q', 'pending', 0, iso(T0 + 6)]]);

    // Deleting a pending (or running) task cancels it first: its attempt is aborted by this event.
    expect((await store.deleteTask(c, T0 + 7)).ok).toBe(true);
    expect(s.take()).toEqual([[c, 'q', 'cancelled', 0, iso(T0 + 7)]]);
    // A terminal task goes without a state change.
    expect((await store.deleteTask(a, T0 + 8)).ok).toBe(true);
    expect(s.take()).toEqual([]);
  });

  it('announce before the write resolves, and the tasks a recovery makes pending again', async () => {
    const store = await openStore();
    const order: string[] = [];
    store.signals.on((events) => order.push(...events.map((e) => `signal ${e.status}`)));
    await store.createTasks([newTask({ queue: 'q' })]).then(() => order.push('resolved'));
    expect(order).toEqual(['signal pending', 'resolved']);
    const [t] = await store.claimTasks(new Map([['q', 1]]), T0 + 1);
    const s = record(store);
    expect(await store.recoverInterrupted(T0 + 2)).toMatchObject({ tasks: 1 });
    expect(s.take()).toEqual([[t!.id, 'q', 'pending', 1, expect.any(String)]]);
  });
});
