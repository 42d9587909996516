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
import { freshPgUrl, testStore } from '../../helpers/postgres.js';
import { tempDir } from '../../helpers/temp.js';

export const kind = testStore;

/** A new, empty store of the kind under test. PostgreSQL uses the callers' `now` (dbTime false), as SQLite does. */
export async function openStore(opts: { nodeId?: string } = {}): Promise<Store> {
  if (kind === 'postgres') {
    const store = await PostgresStore.open({ url: await freshPgUrl(), dbTime: false, nodeId: opts.nodeId ?? 'node-a' });
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
