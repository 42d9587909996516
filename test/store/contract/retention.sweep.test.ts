// Shared store cases (SQLite and PostgreSQL): the retention sweep over the store.
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/log.js';
import { Retention } from '../../../src/retention.js';
import { newTask, openStore, T0 } from './stores.js';

describe('retention', () => {
  it('a sweep purges every expired terminal task in small batches and keeps the rest', async () => {
    const store = await openStore();
    const [labelled] = await store.createTasks([newTask({ labels: ['gone'] })]);
    await store.createTasks(Array.from({ length: 22 }, () => newTask()));
    await store.cancelMany({ status: 'pending' }, T0);
    const [fresh] = await store.createTasks([newTask()]);
    await store.cancelTask(fresh!.task.id, T0 + 50 * 60_000);
    const [live] = await store.createTasks([newTask()]);
    const retention = new Retention({ store, clock: { now: () => T0 + 60 * 60_000 }, log: silentLogger, retentionMs: 30 * 60_000, batchSize: 5 });
    expect(await retention.sweep()).toBe(23);
    await retention.stop();
    expect(await store.getTask(labelled!.task.id)).toBeUndefined();
    expect((await store.listTasks({ label: 'gone', limit: 10 })).tasks).toEqual([]);
    expect(await store.getTask(fresh!.task.id)).toMatchObject({ status: 'cancelled' });
    expect(await store.getTask(live!.task.id)).toMatchObject({ status: 'pending' });
    expect((await store.stats(T0)).counts).toMatchObject({ cancelled: 1, pending: 1 });
  });
});
