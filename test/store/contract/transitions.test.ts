// Shared store cases (SQLite and PostgreSQL), transitions: cancel, retry, delete and the bulk actions leave only the states they may
// leave (the guard is in the UPDATE's WHERE), report the state each task left, and keep the
// per-queue counts equal to the rows.
import { describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/store.js';
import { newTask, openStore, rowCounts, T0 } from './stores.js';

/** The counts the store keeps, next to the counts of the rows themselves. */
async function counts(store: Store) {
  const kept = (await store.stats(T0)).counts;
  return { kept: { ...kept }, actual: await rowCounts(store) };
}

/** One task in each state: pending, running, completed, failed, cancelled. */
async function oneOfEach(store: Store) {
  const made = await store.createTasks(['p', 'r', 'c', 'f', 'x'].map((n) => newTask({ queue: 'q', labels: [n], retries: 0 })));
  const [p, r, c, f, x] = made.map((m) => m.task.id) as [string, string, string, string, string];
  // Claim r, c and f (run order is creation order), finish c and f, cancel x.
  await store.cancelTask(x, T0);
  await store.cancelTask(p, T0);
  const claimed = await store.claimTasks(new Map([['q', 3]]), T0);
  expect(claimed.map((t) => t.id)).toEqual([r, c, f]);
  await store.finishAttempts([
    { id: c, attempt: 1, startedAt: T0, durationMs: 1, httpStatus: 200, next: { status: 'completed', resultJson: null }, now: T0 + 1 },
    { id: f, attempt: 1, startedAt: T0, durationMs: 1, httpStatus: 500, next: { status: 'failed', error: { type: 'http', status: 500, message: 'HTTP 500' } }, now: T0 + 1 },
  ]);
  await store.retryTask(p, T0 + 2);
  return { p, r, c, f, x };
}

describe('guarded transitions', () => {
  it('cancel leaves pending and running, refuses terminal states with conflict and unknown ids with not_found', async () => {
    const store = await openStore();
    const { p, r, c, f, x } = await oneOfEach(store);
    expect(await store.cancelTask(p, T0 + 3)).toMatchObject({ ok: true, previous: 'pending', task: { status: 'cancelled' } });
    expect(await store.cancelTask(r, T0 + 3)).toMatchObject({ ok: true, previous: 'running', task: { status: 'cancelled' } });
    for (const id of [c, f, x, p]) expect(await store.cancelTask(id, T0 + 4)).toEqual({ ok: false, reason: 'conflict' });
    expect(await store.cancelTask('tsk_unknown', T0)).toEqual({ ok: false, reason: 'not_found' });
    const n = await counts(store);
    expect(n.kept).toEqual(n.actual);
  });

  it('retry leaves failed and cancelled only, and reports which', async () => {
    const store = await openStore();
    const { p, r, c, f, x } = await oneOfEach(store);
    expect(await store.retryTask(f, T0 + 3)).toMatchObject({ ok: true, previous: 'failed', task: { status: 'pending' } });
    expect(await store.retryTask(x, T0 + 3)).toMatchObject({ ok: true, previous: 'cancelled', task: { status: 'pending' } });
    for (const id of [p, r, c]) expect(await store.retryTask(id, T0 + 4)).toEqual({ ok: false, reason: 'conflict' });
    expect(await store.retryTask('tsk_unknown', T0)).toEqual({ ok: false, reason: 'not_found' });
    const n = await counts(store);
    expect(n.kept).toEqual(n.actual);
  });

  it('delete reports the state the deleted row had, and not_found the second time', async () => {
    const store = await openStore();
    const { r, c } = await oneOfEach(store);
    expect(await store.deleteTask(r, T0 + 3)).toEqual({ ok: true, previous: 'running' });
    expect(await store.deleteTask(c, T0 + 3)).toEqual({ ok: true, previous: 'completed' });
    expect(await store.deleteTask(c, T0 + 3)).toEqual({ ok: false, reason: 'not_found' });
    expect(await store.listAttempts(r)).toBeUndefined();
    const n = await counts(store);
    expect(n.kept).toEqual(n.actual);
  });

  it('bulk cancel and retry change only allowed states, each with its previous state, and a status filter narrows them', async () => {
    const store = await openStore();
    const { p, r, f, x } = await oneOfEach(store);
    // A status the action may not leave matches nothing.
    expect(await store.cancelMany({ queue: 'q', status: 'completed' }, T0 + 3)).toEqual({ count: 0, changed: [] });
    const running = await store.cancelMany({ queue: 'q', status: 'running' }, T0 + 3);
    expect(running.changed).toEqual([{ id: r, queue: 'q', attempts: 1, previous: 'running' }]);
    const rest = await store.cancelMany({ queue: 'q' }, T0 + 3);
    expect(rest.changed).toEqual([{ id: p, queue: 'q', attempts: 0, previous: 'pending' }]);
    const retried = await store.retryMany({ queue: 'q' }, T0 + 4);
    expect(retried.count).toBe(4);
    expect(Object.fromEntries(retried.changed.map((t) => [t.id, t.previous]))).toEqual({ [p]: 'cancelled', [r]: 'cancelled', [f]: 'failed', [x]: 'cancelled' });
    expect(await store.retryMany({ ids: [] }, T0 + 5)).toEqual({ count: 0, changed: [] });
    const n = await counts(store);
    expect(n.kept).toEqual(n.actual);
    expect(n.actual).toMatchObject({ pending: 4, completed: 1 });
  });

  it('the retention purge counts out only the rows it deleted', async () => {
    const store = await openStore();
    await oneOfEach(store);
    expect(await store.purgeExpired(T0 + 1_000, 100)).toBe(3); // completed, failed, cancelled (the pending retry and the running one stay)
    const n = await counts(store);
    expect(n.kept).toEqual(n.actual);
    expect(n.actual).toEqual({ pending: 1, running: 1, completed: 0, failed: 0, cancelled: 0 });
  });
});
