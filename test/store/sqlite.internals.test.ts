// SQLite-only: what the SQLite store does inside (group commit, user_version migrations, WAL and
// its fsync, SQLite query plans, one transaction per retention batch). The behaviour both stores
// share is in contract/.
import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import { Retention } from '../../src/retention.js';
import { StoreOpenError } from '../../src/store/sqlite/index.js';
import { LOWER_LEVEL, PICK_LEVEL, TOP_LEVEL } from '../../src/store/sqlite/dispatch.js';
import { PURGE } from '../../src/store/sqlite/maintenance.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/sqlite/migrations.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers/temp.js';
import { newTask, openStore, T0 } from './setup.js';

describe('SQLite store internals', () => {
  it('writes arriving in the same tick share one transaction (group commit)', async () => {
    const { store } = openStore();
    const before = store.batcher.commits;
    await Promise.all(Array.from({ length: 200 }, (_, i) => store.createTasks([newTask({ payload: i })])));
    expect(store.batcher.commits - before).toBe(1);
    expect((await store.listTasks({ limit: 500 })).tasks).toHaveLength(200);
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

  it('keeps the claim, list and purge queries on indexes (EXPLAIN QUERY PLAN)', async () => {
    const { store } = openStore();
    const plan = (sql: string, ...args: unknown[]) =>
      (store.db.prepare('EXPLAIN QUERY PLAN ' + sql).all(...args) as { detail: string }[]).map((r) => r.detail).join(' | ');
    // The claim's own statements: each a range or a seek of tasks_due, never a sort of the due rows.
    const level = plan(PICK_LEVEL, 'q', 0, 1, 10);
    expect(level).toMatch(/USING INDEX tasks_due \(queue=\? AND priority=\? AND run_at<\?\)/);
    expect(plan(TOP_LEVEL, 'q')).toMatch(/USING COVERING INDEX tasks_due \(queue=\?\)/);
    expect(plan(LOWER_LEVEL, 'q', 0)).toMatch(/USING COVERING INDEX tasks_due \(queue=\? AND priority<\?\)/);
    for (const p of [level, plan(TOP_LEVEL, 'q'), plan(LOWER_LEVEL, 'q', 0)]) expect(p).not.toMatch(/TEMP B-TREE/);
    const due = plan(`SELECT 1 FROM tasks WHERE status = 'pending' AND queue = ? AND run_at <= ? LIMIT 1`, 'q', 1);
    expect(due).toMatch(/USING (COVERING )?INDEX tasks_pending_run_at/);
    const byStatus = plan(`SELECT t.* FROM tasks t WHERE t.seq < ? AND t.status = 'completed' ORDER BY t.seq DESC LIMIT 50`, 1e9);
    expect(byStatus).toMatch(/USING (COVERING )?INDEX tasks_status/);
    expect(byStatus).not.toMatch(/TEMP B-TREE/);
    const byQueue = plan(`SELECT t.* FROM tasks t WHERE t.seq < ? AND t.queue = ? ORDER BY t.seq DESC LIMIT 50`, 1e9, 'q');
    expect(byQueue).toMatch(/USING (COVERING )?INDEX tasks_queue_seq/);
    expect(byQueue).not.toMatch(/TEMP B-TREE/);
    const byBoth = plan(`SELECT t.* FROM tasks t WHERE t.seq < ? AND t.queue = ? AND t.status = 'failed' ORDER BY t.seq DESC LIMIT 50`, 1e9, 'q');
    expect(byBoth).toMatch(/USING (COVERING )?INDEX tasks_queue_failed/);
    expect(byBoth).not.toMatch(/TEMP B-TREE/);
    const newest = plan(`SELECT t.* FROM tasks t WHERE t.seq < ? ORDER BY t.seq DESC LIMIT 50`, 1e9);
    expect(newest).not.toMatch(/TEMP B-TREE/);
    const label = plan(`SELECT t.* FROM task_labels l CROSS JOIN tasks t ON t.seq = l.seq WHERE l.seq < ? AND l.label = ? ORDER BY l.seq DESC LIMIT 50`, 1e9, 'x');
    expect(label).not.toMatch(/TEMP B-TREE/);
    const purge = plan(PURGE, 1, 10);
    expect(plan('DELETE FROM task_labels WHERE seq = ?', 1)).toMatch(/USING (COVERING )?INDEX task_labels_seq/);
    expect(purge).toMatch(/USING (COVERING )?INDEX tasks_expiry/);
    const webhooks = plan(`SELECT seq FROM tasks WHERE webhook_status = 'pending' AND webhook_run_at <= ? ORDER BY webhook_run_at LIMIT 10`, 1);
    expect(webhooks).toMatch(/USING (COVERING )?INDEX tasks_webhook_due/);
  });

  it('a sweep purges every expired terminal task in small batches and keeps the rest', async () => {
    const { store } = openStore();
    await store.createTasks(Array.from({ length: 23 }, () => newTask()));
    await store.cancelMany({ status: 'pending' }, T0);
    const [fresh] = await store.createTasks([newTask()]);
    await store.cancelTask(fresh!.task.id, T0 + 50 * 60_000);
    const [live] = await store.createTasks([newTask()]);
    const before = store.batcher.commits;
    const retention = new Retention({ store, clock: { now: () => T0 + 60 * 60_000 }, log: silentLogger, retentionMs: 30 * 60_000, batchSize: 5 });
    expect(await retention.sweep()).toBe(23);
    await retention.stop();
    expect(store.batcher.commits - before).toBe(5); // 5 + 5 + 5 + 5 + 3: one small transaction each
    expect(await store.getTask(fresh!.task.id)).toMatchObject({ status: 'cancelled' });
    expect(await store.getTask(live!.task.id)).toMatchObject({ status: 'pending' });
    expect((await store.stats(T0)).counts).toMatchObject({ cancelled: 1, pending: 1 });
  });
});

describe('the outcome migration', () => {
  it('a task that ended before the upgrade is outcome 1, so its re-delivery is <task id>.1', async () => {
    const file = path.join(tempDir(), 'old.db');
    const old = new Database(file);
    for (const [i, sql] of MIGRATIONS.slice(0, 2).entries()) (old.exec(sql), old.pragma(`user_version = ${i + 1}`));
    old.prepare(`INSERT INTO tasks (id, queue, status, target_url, method, headers, payload, webhook_url, webhook_retries, retries, timeout_ms,
      backoff, priority, labels, attempts, run_at, created_at, updated_at, completed_at, result, webhook_status, webhook_attempts)
      VALUES ('tsk_old', 'default', 'completed', 'http://x/', 'POST', '{}', 'null', 'http://x/h', 12, 3, 30000, '{"initial":2,"factor":2,"max":3600}',
      0, '[]', 1, 0, 0, 0, 1, '1', 'failed', 13)`).run();
    old.close();
    const store = new SqliteStore({ file });
    try {
      expect((await store.redeliverTask('tsk_old', T0)).ok).toBe(true);
      expect(await store.claimDeliveries(10, T0)).toMatchObject([{ id: 'tsk_old', outcome: 1, attempt: 14, attemptsBase: 13 }]);
    } finally {
      await store.close();
    }
  });
});
