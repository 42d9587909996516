import { describe, expect, it } from 'vitest';
// Shared store cases (SQLite and PostgreSQL) of api.md §12 keys: the per-key cap, counted in the
// claim itself, and turns between keys, measured in claims (never in time).
import type { Store } from '../../../src/store/store.js';
import { newTask, openStore, T0 } from './stores.js';

const q = (n: number) => new Map([['default', n]]);

async function keyed(store: Store, keyConcurrency: number) {
  await store.updateQueue('default', { keyConcurrency }, T0);
  await store.queueLimits();
}

async function finish(store: Store, ids: { id: string; attempt: number }[]) {
  await store.finishAttempts(ids.map((c) => ({ id: c.id, attempt: c.attempt, startedAt: T0, durationMs: 1, httpStatus: 200, next: { status: 'completed', resultJson: null }, now: T0 + 1 })));
}

describe('keys (api.md §12)', () => {
  it('a task keeps its concurrencyKey; a queue shows its keyConcurrency', async () => {
    const store = await openStore();
    const [a, b] = await store.createTasks([newTask({ concurrencyKey: 'tenant-1' }), newTask()]);
    expect(a!.task.concurrencyKey).toBe('tenant-1');
    expect((await store.getTask(a!.task.id))!.concurrencyKey).toBe('tenant-1');
    expect((await store.getTask(b!.task.id))!.concurrencyKey).toBeNull();
    expect((await store.updateQueue('default', { keyConcurrency: 2 }, T0)).keyConcurrency).toBe(2);
    expect((await store.getQueue('default'))!.keyConcurrency).toBe(2);
    expect((await store.updateQueue('default', { concurrency: 5 }, T0)).keyConcurrency).toBe(2);
    expect((await store.updateQueue('default', { keyConcurrency: null }, T0)).keyConcurrency).toBeNull();
  });

  it('never claims more than keyConcurrency running attempts of one key, across claims', async () => {
    const store = await openStore();
    await keyed(store, 2);
    await store.createTasks(Array.from({ length: 10 }, () => newTask({ concurrencyKey: 'a' })));
    const first = await store.claimTasks(q(10), T0);
    expect(first).toHaveLength(2);
    expect(await store.claimTasks(q(10), T0)).toHaveLength(0);
    await finish(store, [first[0]!]);
    const again = await store.claimTasks(q(10), T0 + 2);
    expect(again).toHaveLength(1);
  });

  it('with 500 tasks of key A and one of key B, B starts in the first claim of one slot after A started one', async () => {
    const store = await openStore();
    await keyed(store, 100);
    await store.createTasks(Array.from({ length: 500 }, (_, i) => newTask({ concurrencyKey: 'A', priority: 0 }, T0 + i)));
    const [b] = await store.createTasks([newTask({ concurrencyKey: 'B' }, T0 + 1000)]);
    const order: string[] = [];
    for (let i = 0; i < 4; i++) for (const c of await store.claimTasks(q(1), T0 + 2000)) order.push(c.id);
    expect(order).toHaveLength(4);
    // turns: A, B, A, A (or B first): B waits at most one claim
    expect(order.indexOf(b!.task.id)).toBeLessThanOrEqual(1);
  });

  it('one claim of many slots serves every key in turn before a second task of any key', async () => {
    const store = await openStore();
    await keyed(store, 50);
    for (const k of ['a', 'b', 'c']) await store.createTasks(Array.from({ length: 20 }, () => newTask({ concurrencyKey: k })));
    const claimed = await store.claimTasks(q(6), T0);
    const keys = await Promise.all(claimed.map(async (c) => (await store.getTask(c.id))!.concurrencyKey));
    expect(keys.sort()).toEqual(['a', 'a', 'b', 'b', 'c', 'c']);
  });

  it('tasks without a key in a keyed queue take one turn of their own and have no cap', async () => {
    const store = await openStore();
    await keyed(store, 1);
    await store.createTasks(Array.from({ length: 5 }, () => newTask({ concurrencyKey: 'a' })));
    await store.createTasks(Array.from({ length: 3 }, () => newTask()));
    const claimed = await store.claimTasks(q(10), T0);
    const keys = await Promise.all(claimed.map(async (c) => (await store.getTask(c.id))!.concurrencyKey));
    expect(keys.filter((k) => k === 'a')).toHaveLength(1);
    expect(keys.filter((k) => k === null)).toHaveLength(3);
  });

  it('a future task of a key is not claimed, and the keyed claim respects priority within a key', async () => {
    const store = await openStore();
    await keyed(store, 1);
    await store.createTasks([newTask({ concurrencyKey: 'a', delay: 60 })]);
    const [low, high] = await store.createTasks([newTask({ concurrencyKey: 'b', priority: 1 }), newTask({ concurrencyKey: 'b', priority: 9 })]);
    const claimed = await store.claimTasks(q(10), T0);
    expect(claimed.map((c) => c.id)).toEqual([high!.task.id]);
    expect(low).toBeDefined();
  });

  it('open async attempts do not count against their key', async () => {
    const store = await openStore();
    await keyed(store, 1);
    await store.createTasks([newTask({ concurrencyKey: 'a', async: {} }), newTask({ concurrencyKey: 'a' })]);
    const [c] = await store.claimTasks(q(1), T0);
    expect(await store.acceptAttempts([{ id: c!.id, attempt: 1, startedAt: T0, now: T0 + 1, deadline: T0 + 100_000 }])).toEqual([true]);
    expect(await store.claimTasks(q(1), T0 + 2)).toHaveLength(1);
  });
});
