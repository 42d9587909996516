// 8. Keys (api.md §12): the claim of a queue with keyConcurrency, in process on the built store,
// with 100,000 distinct keys holding one due task each and one key holding a million due tasks
// (a second queue of 100,000 unkeyed tasks is the hot path for comparison). Measures one claim of
// 10 slots (p50/p99 over repeated claims, each finished before the next), how many claims a
// fresh key's task waits behind the million, and records the query plans.
import path from 'node:path';
import { now, round } from '../lib/common.mjs';

const DISTINCT = 100_000, HEAVY = 1_000_000, PLAIN = 100_000, PAIR = 100_000, CLAIMS = 300, SLOTS = 10;

function pct(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? round(s[Math.min(s.length - 1, Math.floor(p * s.length))], 3) : null;
}

const COLS = `id, queue, status, target_url, method, headers, payload, webhook_retries, retries, timeout_ms, backoff, priority, labels,
  run_at, created_at, updated_at, concurrency_key`;
const row = (id, queue, key) => `${id}, ${queue}, 'pending', 'http://127.0.0.1:9/x', 'POST', '{}', 'null', 0, 0, 30000,
  '{"initial":1,"factor":2,"max":60}', 0, '[]', 1, 1, 1, ${key}`;

export default async function keys(ctx) {
  const scale = ctx.opts.n < 20000 ? 0.1 : 1; // --quick: a tenth
  const distinct = DISTINCT * scale, heavy = HEAVY * scale, plain = PLAIN * scale, pair = PAIR * scale;
  const T = Date.now();
  let store, exec, plans;
  if (ctx.pgUrl) {
    const { PostgresStore } = await import(path.join(ctx.aqDir, 'dist/store/postgres/index.js'));
    const url = await ctx.freshDatabase('keys');
    store = await PostgresStore.open({ url, nodeId: 'bench', dbTime: false });
    const pg = (await import('pg')).default;
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    exec = async (sql) => (await c.query(sql)).rows;
    const seed = (n, queue, key, prefix) => exec(`INSERT INTO tasks (${COLS}) SELECT ${row(`'${prefix}' || g`, `'${queue}'`, key)}
      FROM generate_series(1, ${n}) g`);
    const t0 = now();
    await seed(distinct, 'keyed', `'k' || lpad(g::text, 6, '0')`, 'd');
    await seed(heavy, 'keyed', `'heavy'`, 'h');
    await seed(plain, 'plain', 'NULL', 'p');
    await seed(pair, 'pair', `'A'`, 'a');
    await exec('ANALYZE tasks');
    ctx.metric('keys.seed_s', `seed ${distinct + heavy + plain + pair} tasks`, round((now() - t0) / 1000, 1), 's');
    plans = async () => ({
      keys: (await exec(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) WITH RECURSIVE k AS (
        (SELECT concurrency_key AS key, 1 AS i FROM tasks WHERE status = 'pending' AND concurrency_key IS NOT NULL AND queue = 'keyed' AND concurrency_key > '' AND run_at <= ${T} ORDER BY concurrency_key LIMIT 1)
        UNION ALL SELECT (SELECT concurrency_key FROM tasks t WHERE t.status = 'pending' AND t.concurrency_key IS NOT NULL AND t.queue = 'keyed' AND t.concurrency_key > k.key AND t.run_at <= ${T} ORDER BY t.concurrency_key LIMIT 1), k.i + 1 FROM k WHERE k.key IS NOT NULL AND k.i < 20)
        SELECT key FROM k WHERE key IS NOT NULL`)).map((r) => r['QUERY PLAN']),
      pick: (await exec(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT seq FROM tasks WHERE status = 'pending' AND concurrency_key IS NOT NULL AND queue = 'keyed' AND concurrency_key = 'heavy' AND run_at <= ${T} ORDER BY priority DESC, run_at LIMIT 5`)).map((r) => r['QUERY PLAN']),
      running: (await exec(`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) SELECT concurrency_key, count(*) FROM tasks WHERE status = 'running' AND concurrency_key IS NOT NULL AND queue = 'keyed' AND awaiting_since IS NULL GROUP BY concurrency_key`)).map((r) => r['QUERY PLAN']),
    });
    ctx.onEnd = () => c.end();
  } else {
    const { SqliteStore } = await import(path.join(ctx.aqDir, 'dist/store/sqlite/index.js'));
    store = new SqliteStore({ file: path.join(ctx.tmp, 'keys.db') });
    const db = store.db;
    exec = async (sql) => db.prepare(sql).all();
    const seed = (n, queue, key, prefix) => db.prepare(`WITH RECURSIVE g(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM g WHERE g < ${n})
      INSERT INTO tasks (${COLS}) SELECT ${row(`'${prefix}' || g`, `'${queue}'`, key)} FROM g`).run();
    const t0 = now();
    db.transaction(() => {
      seed(distinct, 'keyed', `'k' || substr('000000' || g, -6)`, 'd');
      seed(heavy, 'keyed', `'heavy'`, 'h');
      seed(plain, 'plain', 'NULL', 'p');
      seed(pair, 'pair', `'A'`, 'a');
    })();
    db.exec('ANALYZE');
    ctx.metric('keys.seed_s', `seed ${distinct + heavy + plain + pair} tasks`, round((now() - t0) / 1000, 1), 's');
    const eqp = (sql) => db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all().map((r) => r.detail);
    plans = async () => ({
      nextKey: eqp(`SELECT concurrency_key FROM tasks INDEXED BY tasks_key_due WHERE status = 'pending' AND concurrency_key IS NOT NULL AND queue = 'keyed' AND concurrency_key > 'k' AND run_at <= ${T} ORDER BY concurrency_key LIMIT 1`),
      pick: eqp(`SELECT seq FROM tasks INDEXED BY tasks_key_due WHERE status = 'pending' AND concurrency_key IS NOT NULL AND queue = 'keyed' AND concurrency_key = 'heavy' AND run_at <= ${T} ORDER BY priority DESC, run_at LIMIT 5`),
      running: eqp(`SELECT concurrency_key, count(*) FROM tasks INDEXED BY tasks_key_running WHERE status = 'running' AND concurrency_key IS NOT NULL AND queue = 'keyed' AND awaiting_since IS NULL GROUP BY concurrency_key`),
    });
  }
  try {
    await store.updateQueue('keyed', { keyConcurrency: 5 }, T);
    await store.updateQueue('plain', {}, T);
    await store.updateQueue('pair', { keyConcurrency: 5 }, T);
    await store.queueLimits();
    const measure = async (queue) => {
      const ms = [];
      let claimed = 0;
      for (let i = 0; i < CLAIMS; i++) {
        const t0 = now();
        const got = await store.claimTasks(new Map([[queue, SLOTS]]), T + 10);
        ms.push(now() - t0);
        claimed += got.length;
        await store.finishAttempts(got.map((c) => ({ id: c.id, attempt: c.attempt, startedAt: T, durationMs: 1, httpStatus: 200, next: { status: 'completed', resultJson: null }, now: T + 11 })));
      }
      return { ms, claimed };
    };
    const k = await measure('keyed');
    const p = await measure('plain');
    ctx.metric('keys.claim_p50_ms', `claim of ${SLOTS} in a queue with keyConcurrency, ${distinct} keys + one key of ${heavy}`, pct(k.ms, 0.5), 'ms');
    ctx.metric('keys.claim_p99_ms', 'the same, p99', pct(k.ms, 0.99), 'ms');
    ctx.metric('keys.claimed_per_claim', 'tasks started per keyed claim (of 10 slots)', round(k.claimed / CLAIMS, 2), 'tasks');
    ctx.metric('keys.plain_claim_p50_ms', `claim of ${SLOTS} in a queue without keys, ${plain} due (hot path)`, pct(p.ms, 0.5), 'ms');
    ctx.metric('keys.plain_claim_p99_ms', 'the same, p99', pct(p.ms, 0.99), 'ms');
    // The issue's case: key A has ${pair} due tasks (a few of them started), then key B's one task comes:
    // how many claims of one slot start before it does.
    for (let i = 0; i < 3; i++) await store.claimTasks(new Map([['pair', 1]]), T + 15);
    const [fresh] = await store.createTasks([{
      id: 'tsk_bench_fresh', queue: 'pair', targetUrl: 'http://127.0.0.1:9/x', method: 'POST', headers: {}, payloadJson: 'null',
      webhookUrl: null, webhookRetries: 0, retries: 0, timeoutMs: 30000, backoff: { initial: 1, factor: 2, max: 60 }, priority: 0,
      idempotencyKey: null, labels: [], concurrencyKey: 'B', runAt: T + 20, createdAt: T + 20, scheduleId: null, async: null,
    }]);
    let waited = 0;
    for (; waited < 1000; waited++) {
      const got = await store.claimTasks(new Map([['pair', 1]]), T + 30);
      await store.finishAttempts(got.map((c) => ({ id: c.id, attempt: c.attempt, startedAt: T, durationMs: 1, httpStatus: 200, next: { status: 'completed', resultJson: null }, now: T + 31 })));
      if (got.some((c) => c.id === fresh.task.id)) break;
    }
    ctx.metric('keys.light_key_wait_claims', `claims of one slot started before key B's one task, behind key A's ${pair}`, waited, 'claims');
    ctx.detail('keys', { plans: await plans(), claimMs: { keyed: k.ms.map((x) => round(x, 3)), plain: p.ms.map((x) => round(x, 3)) } });
    ctx.log(`keys: plans ${JSON.stringify(await plans())}`);
  } finally {
    await store.close();
    await ctx.onEnd?.();
  }
}
