#!/usr/bin/env node
// What one task costs PostgreSQL, per step of its life (docs/scaling.md): WAL bytes, statements
// and commits, index entries written, dead row versions left for vacuum, and the database's CPU
// time (when it runs the throw-away cluster itself). Uses the built store (npm run build).
//   node bench/pg-costs.mjs [--pg-url postgres://…] [--n 20000]
import { clusterCpuMs, freshDatabase, pgForBench } from './lib/postgres.mjs';
import { parseArgs } from './lib/common.mjs';
import pg from 'pg';

const A = parseArgs(process.argv.slice(2), { 'pg-url': '', n: '20000' });
const N = Number(A.n);
const { PostgresStore } = await import('../dist/store/postgres/index.js');
const { toNewTask } = await import('../dist/shared/defaults.js');

const pgb = await pgForBench({ url: A['pg-url'] || undefined });
try {
  const url = await freshDatabase(pgb.url, 'costs');
  const store = await PostgresStore.open({ url, nodeId: 'bench' });
  const probe = new pg.Client({ connectionString: url });
  await probe.connect();
  const snap = async () => {
    const [r] = (await probe.query(`SELECT pg_current_wal_lsn()::text AS lsn,
      (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits,
      (SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'tasks') AS dead,
      (SELECT sum(idx_blks_hit + idx_blks_read) FROM pg_statio_user_indexes WHERE relname = 'tasks') AS idx`)).rows;
    return { ...r, cpu: clusterCpuMs(pgb.postmasterPid) };
  };
  const diff = async (a, b) => {
    const [w] = (await probe.query('SELECT pg_wal_lsn_diff($1, $2)::bigint AS bytes', [b.lsn, a.lsn])).rows;
    return { walBytes: Number(w.bytes), commits: Number(b.commits) - Number(a.commits), cpuMs: b.cpu != null ? b.cpu - a.cpu : null };
  };
  const rows = [];
  const step = async (name, fn) => {
    await probe.query('SELECT pg_stat_clear_snapshot()');
    const a = await snap();
    const t0 = performance.now();
    await fn();
    const ms = performance.now() - t0;
    await new Promise((r) => setTimeout(r, 700)); // statistics are sent at transaction end, a moment later
    await probe.query('SELECT pg_stat_clear_snapshot()');
    const b = await snap();
    const d = await diff(a, b);
    rows.push({ step: name, 'WAL bytes/task': Math.round(d.walBytes / N), 'commits/1000 tasks': Math.round((d.commits / N) * 1000),
      'db CPU µs/task': d.cpuMs == null ? '—' : Math.round((d.cpuMs * 1000) / N), 'tasks/s': Math.round((N / ms) * 1000) });
  };
  const now = Date.now();
  const tasks = Array.from({ length: N }, (_, i) => toNewTask({ targetUrl: 'http://127.0.0.1:9/x', payload: { i } }, now));
  await step('create, 1 per call (32 at once)', async () => {
    for (let i = 0; i < N; i += 32) await Promise.all(tasks.slice(i, i + 32).map((t) => store.createTasks([t])));
  });
  const claimed = [];
  await step('claim, 100 per statement', async () => {
    for (;;) {
      const got = await store.claimTasks(new Map([['default', 100]]), Date.now());
      if (got.length === 0) break;
      claimed.push(...got);
    }
  });
  await step('finish (completed), 100 per statement', async () => {
    for (let i = 0; i < claimed.length; i += 100) {
      await store.finishAttempts(claimed.slice(i, i + 100).map((c) => ({
        id: c.id, attempt: c.attempt, startedAt: c.startedAt, durationMs: 1, httpStatus: 200, next: { status: 'completed', resultJson: null }, now: Date.now(),
      })));
    }
  });
  const [dead] = (await probe.query(`SELECT n_dead_tup AS dead, n_live_tup AS live FROM pg_stat_user_tables WHERE relname = 'tasks'`)).rows;
  const [idx] = (await probe.query(`SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = 'tasks'`)).rows;
  console.log(`PostgreSQL cost per task, N=${N} (${A['pg-url'] ? 'given server' : 'throw-away cluster, fsync on'})\n`);
  console.log('| step | WAL bytes/task | commits per 1000 tasks | database CPU µs/task | tasks/s |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.step} | ${r['WAL bytes/task']} | ${r['commits/1000 tasks']} | ${r['db CPU µs/task']} | ${r['tasks/s']} |`);
  console.log(`\ntasks table: ${idx.n} indexes; after one life per task: ${dead.live} live and ${dead.dead} dead row versions (vacuum's work)`);
  await probe.end();
  await store.close();
} finally {
  pgb.stop();
}
