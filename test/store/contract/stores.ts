// The store under test for the shared cases in this folder: SQLite in the `sqlite` project,
// PostgreSQL (a fresh schema of this file's database) in the `postgres` project
// (AQ_TEST_STORE=postgres). Closed when the test finishes.
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { toNewTask } from '../../../src/shared/defaults.js';
import type { CreateTaskInput } from '../../../src/shared/types.js';
import { PostgresStore } from '../../../src/store/postgres/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import type { Store } from '../../../src/store/store.js';
import type { TaskStatus } from '../../../src/shared/types.js';
import { freshPgUrl, pgQuery, testStore } from '../../helpers/postgres.js';
import { tempDir } from '../../helpers/temp.js';

export const kind = testStore;

const urls = new WeakMap<Store, string>();

/** A new, empty store of the kind under test. PostgreSQL uses the callers' `now` (dbTime false), as SQLite does. */
export async function openStore(opts: { nodeId?: string } = {}): Promise<Store> {
  if (kind === 'postgres') {
    const url = await freshPgUrl();
    const store = await PostgresStore.open({ url, dbTime: false, nodeId: opts.nodeId ?? 'node-a' });
    urls.set(store, url);
    onTestFinished(() => store.close());
    return store;
  }
  const store = new SqliteStore({ file: path.join(tempDir(), 'aq.db') });
  onTestFinished(() => store.close());
  return store;
}

export const T0 = Date.parse('2026-01-01T00:00:00Z');

export function newTask(extra: Partial<CreateTaskInput> = {}, now = T0) {
  return toNewTask({ targetUrl: 'http://127.0.0.1:9/x', payload: { n: 1 }, ...extra }, now);
}

/** Tasks by status counted in the rows themselves (not the store's counters), for either store. */
export async function rowCounts(store: Store): Promise<Record<TaskStatus, number>> {
  const sql = 'SELECT status, count(*) AS n FROM tasks GROUP BY status';
  const rows = kind === 'postgres'
    ? await pgQuery<{ status: TaskStatus; n: string }>(urls.get(store)!, sql)
    : ((store as SqliteStore).db.prepare(sql).all() as { status: TaskStatus; n: number }[]);
  const out: Record<TaskStatus, number> = { pending: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
  for (const r of rows) out[r.status] = Number(r.n);
  return out;
}

/** The single number `sql` (one row, one column) answers, on either store. */
export async function scalar(store: Store, sql: string): Promise<number> {
  const row = kind === 'postgres'
    ? (await pgQuery<Record<string, unknown>>(urls.get(store)!, sql))[0]
    : ((store as SqliteStore).db.prepare(sql).get() as Record<string, unknown>);
  return Number(Object.values(row!)[0]);
}
