// The disk's commit cost, printed with the machine: a durable (synchronous=FULL,
// WAL) SQLite commit waits for an fsync, which bounds every create's latency.
import path from 'node:path';
import { createRequire } from 'node:module';
import { now, percentiles } from './common.mjs';

/** Per-commit ms {p50, p99} for `n` one-row commits in dir, with FULL and NORMAL; null if better-sqlite3 is missing. */
export function commitCost(aqDir, dir, n = 200) {
  let Database;
  try { Database = createRequire(path.join(aqDir, 'package.json'))('better-sqlite3'); } catch { return null; }
  const db = new Database(path.join(dir, 'fsync-probe.db'));
  try {
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (a INTEGER)');
    const ins = db.prepare('INSERT INTO t VALUES (?)');
    const out = {};
    for (const mode of ['FULL', 'NORMAL']) {
      db.pragma(`synchronous = ${mode}`);
      const ms = [];
      for (let i = 0; i < n; i++) { const t = now(); db.exec('BEGIN'); ins.run(i); db.exec('COMMIT'); ms.push(now() - t); }
      const p = percentiles(ms);
      out[mode.toLowerCase()] = { p50: p.p50, p99: p.p99 };
    }
    return out;
  } finally { db.close(); }
}
