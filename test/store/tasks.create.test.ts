import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { StoreOpenError } from '../../src/store/sqlite/index.js';
import { SCHEMA_VERSION } from '../../src/store/sqlite/migrations.js';
import { newTask, openStore, T0 } from './setup.js';

describe('creating and reading tasks', () => {
  it('stores a task with the contract defaults and reads it back', async () => {
    const { store } = openStore();
    const [r] = await store.createTasks([newTask({ labels: ['a', 'b'], headers: { 'X-Key': 'v' } })]);
    expect(r!.created).toBe(true);
    const t = (await store.getTask(r!.task.id))!;
    expect(t).toMatchObject({
      status: 'pending', queue: 'default', method: 'POST', retries: 3, webhookRetries: 12, timeout: 30,
      backoff: { initial: 2, factor: 2, max: 3600 }, priority: 0, labels: ['a', 'b'], headers: { 'X-Key': 'v' },
      payload: { n: 1 }, attempts: 0, result: null, error: null, webhook: null, completedAt: null,
    });
    expect(t.createdAt).toBe(new Date(T0).toISOString());
    expect(t.id).toMatch(/^tsk_[0-9a-z]{24}$/);
  });

  it('an idempotency key seen before returns the existing task and creates nothing', async () => {
    const { store } = openStore();
    const writes = Array.from({ length: 20 }, () => store.createTasks([newTask({ idempotencyKey: 'same' })]));
    const results = (await Promise.all(writes)).map((r) => r[0]!);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.task.id)).size).toBe(1);
    const page = await store.listTasks({ limit: 100 });
    expect(page.tasks).toHaveLength(1);
  });

  it('writes arriving in the same tick share one transaction (group commit)', async () => {
    const { store } = openStore();
    const before = store.batcher.commits;
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.createTasks([newTask({ payload: i })])));
    expect(store.batcher.commits - before).toBe(1);
    expect((await store.listTasks({ limit: 500 })).tasks).toHaveLength(200);
  });

  it('a batch is all or nothing: one failing insert leaves nothing behind', async () => {
    const { store } = openStore();
    const bad = { ...newTask(), targetUrl: null as unknown as string };
    await expect(store.createTasks([newTask(), newTask(), bad])).rejects.toThrow();
    expect((await store.listTasks({ limit: 10 })).tasks).toHaveLength(0);
    // a failing write does not take its neighbours in the same group commit down
    const [ok, fail] = await Promise.allSettled([store.createTasks([newTask()]), store.createTasks([bad])]);
    expect(ok.status).toBe('fulfilled');
    expect(fail.status).toBe('rejected');
    expect((await store.listTasks({ limit: 10 })).tasks).toHaveLength(1);
  });

  it('a queue first seen in a write that rolls back is created by the next write that commits', async () => {
    const { store } = openStore();
    const bad = { ...newTask({ queue: 'ghost' }), targetUrl: null as unknown as string };
    await expect(store.createTasks([newTask({ queue: 'ghost' }), bad])).rejects.toThrow();
    expect((await store.listQueues()).map((q) => q.name)).not.toContain('ghost');
    await store.createTasks([newTask({ queue: 'ghost' })]);
    expect((await store.listQueues()).find((q) => q.name === 'ghost')).toMatchObject({ counts: { pending: 1 } });
    expect((await store.queueLimits()).map((q) => q.name)).toContain('ghost');
  });

  it('migrations set the schema version, and a database from a newer version is refused untouched', async () => {
    const { store, file } = openStore();
    expect((await store.info()).schemaVersion).toBe(SCHEMA_VERSION);
    await store.close();
    const db = new Database(file);
    db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    db.close();
    const { SqliteStore } = await import('../../src/store/sqlite/index.js');
    expect(() => new SqliteStore({ file })).toThrow(StoreOpenError);
    expect(() => new SqliteStore({ file })).toThrow(/schema version .* upgrade AsyncQueue/);
    const again = new Database(file);
    expect(again.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION + 5);
    again.close();
  });

  it('uses WAL and the durability asked for', async () => {
    const full = openStore().store;
    expect(full.db.pragma('journal_mode', { simple: true })).toBe('wal');
    // full: commits are written with NORMAL and the WAL is fsynced off the event loop before
    // acknowledged writes resolve
    expect(full.db.pragma('synchronous', { simple: true })).toBe(1);
    expect(full.walSync).toBeDefined();
    const before = full.walSync!.syncs;
    await full.createTasks([newTask()]);
    expect(full.walSync!.syncs).toBe(before + 1);
    await full.claimTasks(new Map([['default', 1]]), T0);
    expect(full.walSync!.syncs).toBe(before + 1); // bookkeeping is not fsynced
    const normal = openStore({ durability: 'normal' }).store;
    expect(normal.db.pragma('synchronous', { simple: true })).toBe(1);
    expect(normal.walSync).toBeUndefined();
  });
});
