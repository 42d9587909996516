// A real SQLite store in a temp dir per test, closed when the test finishes.
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { toNewTask } from '../../src/shared/defaults.js';
import type { CreateTaskInput } from '../../src/shared/types.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers/temp.js';

export function openStore(opts: { durability?: 'full' | 'normal'; file?: string } = {}) {
  const dir = tempDir();
  const file = opts.file ?? path.join(dir, 'aq.db');
  const store = new SqliteStore({ file, durability: opts.durability });
  onTestFinished(() => store.close());
  return { store, file, dir };
}

export const T0 = Date.parse('2026-01-01T00:00:00Z');

export function newTask(extra: Partial<CreateTaskInput> = {}, now = T0) {
  return toNewTask({ targetUrl: 'http://127.0.0.1:9/x', payload: { n: 1 }, ...extra }, now);
}
