// Shared store cases (SQLite and PostgreSQL): creating and reading tasks, idempotency, atomic batches.
import { describe, expect, it } from 'vitest';
import { newTask, openStore, T0 } from './stores.js';

describe('creating and reading tasks', () => {
  it('stores a task with the contract defaults and reads it back', async () => {
    const store = await openStore();
    const [r] = await store.createTasks([newTask({ labels: ['a', 'b'], headers: { 'X-Key': 'v' } })]);
    expect(r!.created).toBe(true);
    const t = (await store.getTask(r!.task.id))!;
    expect(t).toMatchObject({
      status: 'pending', queue: 'default', method: 'POST', retries: 3, webhookRetries: 12, timeout: 30,
      backoff: { initial: 2, factor: 2, max: 3600 }, priority: 0, labels: ['a', 'b'], headers: { 'X-Key': 'v' },
      payload: { n: 1 }, attempts: 0, result: null, error: null, webhook: null, completedAt: null,
    });
    expect(t).toEqual(r!.task);
    expect(t.createdAt).toBe(new Date(T0).toISOString());
    expect(t.id).toMatch(/^tsk_[0-9a-z]{24}$/);
    expect(await store.getTask('tsk_nope')).toBeUndefined();
    expect(await store.listAttempts('tsk_nope')).toBeUndefined();
  });

  it('an idempotency key seen before returns the existing task and creates nothing', async () => {
    const store = await openStore();
    const writes = Array.from({ length: 20 }, () => store.createTasks([newTask({ idempotencyKey: 'same' })]));
    const results = (await Promise.all(writes)).map((r) => r[0]!);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.task.id)).size).toBe(1);
    const page = await store.listTasks({ limit: 100 });
    expect(page.tasks).toHaveLength(1);
    // the same key twice in one batch: one task
    const [a, b] = await store.createTasks([newTask({ idempotencyKey: 'pair' }), newTask({ idempotencyKey: 'pair' })]);
    expect([a!.created, b!.created]).toEqual([true, false]);
    expect(b!.task.id).toBe(a!.task.id);
    expect((await store.stats(T0)).counts.pending).toBe(2);
  });

  it('a batch is all or nothing: one failing insert leaves nothing behind', async () => {
    const store = await openStore();
    const bad = { ...newTask(), targetUrl: null as unknown as string };
    await expect(store.createTasks([newTask(), newTask(), bad])).rejects.toThrow();
    expect((await store.listTasks({ limit: 10 })).tasks).toHaveLength(0);
    // a failing write does not take its concurrent neighbours down
    const [ok, fail] = await Promise.allSettled([store.createTasks([newTask()]), store.createTasks([bad])]);
    expect(ok.status).toBe('fulfilled');
    expect(fail.status).toBe('rejected');
    expect((await store.listTasks({ limit: 10 })).tasks).toHaveLength(1);
    expect((await store.stats(T0)).counts.pending).toBe(1);
  });

  it('a create announces its pending events and holds nothing afterwards: single, grouped, repeated, batch, failed', async () => {
    const store = await openStore();
    const seen: string[] = [];
    store.signals.on((events) => seen.push(...events.map((e) => `${e.id}:${e.status}`)));
    const [one] = await store.createTasks([newTask()]);
    const grouped = await Promise.all([store.createTasks([newTask()]), store.createTasks([newTask(), newTask()])]);
    const [again] = await store.createTasks([newTask({ idempotencyKey: 'k' })]);
    await store.createTasks([newTask({ idempotencyKey: 'k' })]);
    const batchId = 'bat_01kdvdna00signals00000000';
    const inBatch = await store.createTasks([{ ...newTask(), batchId }], undefined, { id: batchId, webhookUrl: null, labels: [], createdAt: T0 });
    const bad = { ...newTask(), targetUrl: null as unknown as string };
    await expect(store.createTasks([newTask(), bad])).rejects.toThrow();
    const ids = [one!, ...grouped.flat(), again!, inBatch[0]!].map((r) => `${r.task.id}:pending`);
    expect(seen.sort()).toEqual(ids.sort());
    expect(store.signals.holding).toBe(0);
  });

  it('a queue first seen in a write that rolls back is created by the next write that commits', async () => {
    const store = await openStore();
    const bad = { ...newTask({ queue: 'ghost' }), targetUrl: null as unknown as string };
    await expect(store.createTasks([newTask({ queue: 'ghost' }), bad])).rejects.toThrow();
    expect((await store.listQueues()).map((q) => q.name)).not.toContain('ghost');
    await store.createTasks([newTask({ queue: 'ghost' })]);
    expect((await store.listQueues()).find((q) => q.name === 'ghost')).toMatchObject({ counts: { pending: 1 } });
    expect((await store.queueLimits()).map((q) => q.name)).toContain('ghost');
  });

  it('queue settings: created on first use, limits set and cleared, pause', async () => {
    const store = await openStore();
    expect(await store.getQueue('q')).toBeUndefined();
    expect(await store.updateQueue('q', { concurrency: 3, ratePerSecond: 2.5 }, T0)).toMatchObject({ name: 'q', concurrency: 3, ratePerSecond: 2.5, paused: false });
    expect(await store.updateQueue('q', { paused: true }, T0)).toMatchObject({ concurrency: 3, ratePerSecond: 2.5, paused: true });
    expect(await store.updateQueue('q', { concurrency: null }, T0)).toMatchObject({ concurrency: null, ratePerSecond: 2.5, paused: true });
    expect(await store.queueLimits()).toEqual([{ name: 'q', concurrency: null, ratePerSecond: 2.5, keyConcurrency: null, paused: true }]);
    await store.createTasks([newTask({ queue: 'q' })]);
    expect(await store.getQueue('q')).toMatchObject({ counts: { pending: 1, running: 0 } });
  });

  it('settings: the first value stored wins, a set replaces it', async () => {
    const store = await openStore();
    expect(await store.getSetting('k')).toBeUndefined();
    const firsts = await Promise.all(['a', 'b', 'c'].map((v) => store.initSetting('k', v)));
    expect(new Set(firsts).size).toBe(1);
    expect(await store.getSetting('k')).toBe(firsts[0]);
    await store.setSetting('k', 'z');
    expect(await store.initSetting('k', 'y')).toBe('z');
    expect(await store.ping()).toBe(true);
    expect((await store.info()).schemaVersion).toBeGreaterThan(0);
  });
});
