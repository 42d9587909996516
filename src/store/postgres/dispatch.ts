// SQL for the dispatcher on PostgreSQL: claims (FOR UPDATE SKIP LOCKED in a CTE, many tasks
// and queues per statement, owner recorded on the row), queue limits held for the whole
// cluster inside the claim transaction, guarded and batched finishes (unnest), webhook
// deliveries, and recovery of this node's interrupted work. Claims and results go through the
// bookkeeping pool (ctx.book), whose commits do not wait for the WAL flush (as with SQLite: a
// database crash can only make an attempt run again, never lose a task).
import type { TaskError } from '../../shared/types.js';
import * as tb from '../../dispatch/token-bucket.js';
import type { AttemptFinish, ClaimedDelivery, ClaimedTask, DeliveryFinish, QueueLimits } from '../store.js';
import { nowParam, nowSql, type PgCtx } from './context.js';
import type { Sql } from './pool.js';
import { pickKeyed } from './keys.js';
import { firePending, interruptSql, INTERRUPTED_COUNTS, type PendingRow } from './interrupt.js';
import { insertTasks } from './tasks.js';
import { taskEvent } from '../signals.js';
import type { NewTask } from '../../shared/defaults.js';
import { isBatchId } from '../../shared/ids.js';
import { followUpOf } from '../chain.js';
import { batchDelivery, type BatchRow } from '../sqlite/rows.js';

interface ClaimRow {
  seq: number; id: string; queue: string; target_url: string; method: ClaimedTask['method']; headers: string; payload: string;
  timeout_ms: number; retries: number; backoff: string; attempts: number; attempts_base: number; priority: number; run_at: number;
  has_webhook: boolean; started_at: number; created_at: number; schedule_id: string | null; qstash: string | null;
  async_timeout_ms: number | null; async_heartbeat_ms: number | null; batch_id: string | null; has_chain: boolean;
}

/** The claim's update of the picked rows; `$node` and `$token` are the parameter numbers of this node and the claim's token. */
const claimSet = (node: number, token: number) => `UPDATE tasks t SET status = 'running', attempts = t.attempts + 1, updated_at = now.ms,
    claimed_by = $${node}, claim_token = $${token}, awaiting_since = NULL, awaiting_deadline = NULL, awaiting_heartbeat_at = NULL
  FROM picked, now WHERE t.seq = picked.seq`;
const CLAIM_RETURNING = `RETURNING t.seq, t.id, t.queue, t.target_url, t.method, t.headers, t.payload, t.timeout_ms, t.retries, t.backoff, t.attempts,
    t.attempts_base, t.priority, t.run_at, t.webhook_url IS NOT NULL AS has_webhook, now.ms AS started_at, t.created_at, t.schedule_id, t.qstash,
    t.async_timeout_ms, t.async_heartbeat_ms, t.batch_id, t.chain IS NOT NULL AS has_chain`;

// $1 queues, $2 how many of each, $3 now (null: the database's clock), $4 this node, $5 the claim's token.
// `open` keeps only queues the database says are unpaused and unlimited (the fast path; limited
// queues are claimed by claimLimited). SKIP LOCKED: claimers on other nodes take other rows.
const claimSql = (onlyUnlimited: boolean) => `WITH now AS (SELECT ${nowSql(3)} AS ms),
  want AS (
    SELECT w.queue, w.n FROM unnest($1::text[], $2::int[]) AS w(queue, n)
    ${onlyUnlimited ? 'JOIN queues q ON q.name = w.queue AND NOT q.paused AND q.concurrency IS NULL AND q.rate_per_second IS NULL AND q.key_concurrency IS NULL' : ''}
    WHERE w.n > 0
  ),
  picked AS (
    SELECT p.seq FROM want CROSS JOIN now CROSS JOIN LATERAL (
      SELECT t.seq FROM tasks t WHERE t.status = 'pending' AND t.queue = want.queue AND t.run_at <= now.ms
      ORDER BY t.priority DESC, t.run_at LIMIT want.n FOR UPDATE SKIP LOCKED
    ) p
  )
  ${claimSet(4, 5)}
  ${CLAIM_RETURNING}`;
// The picks of keyed queues (keys.ts): $1 seqs, $2 now, $3 this node, $4 the claim's token.
const CLAIM_SEQS = `WITH now AS (SELECT ${nowSql(2)} AS ms), picked AS (SELECT unnest($1::bigint[]) AS seq)
  ${claimSet(3, 4)} AND t.status = 'pending'
  ${CLAIM_RETURNING}`;
const CLAIM_UNLIMITED = claimSql(true);
const CLAIM_ANY = claimSql(false);

function toClaimed(r: ClaimRow): ClaimedTask {
  return {
    seq: r.seq, id: r.id, queue: r.queue, targetUrl: r.target_url, method: r.method, headers: JSON.parse(r.headers),
    payloadJson: r.payload, timeoutMs: r.timeout_ms, retries: r.retries, backoff: JSON.parse(r.backoff),
    attempt: r.attempts, attemptsBase: r.attempts_base, startedAt: r.started_at, hasWebhook: r.has_webhook,
    createdAt: r.created_at, scheduleId: r.schedule_id, qstash: r.qstash === null ? null : JSON.parse(r.qstash),
    async: r.async_timeout_ms === null ? null : { timeoutMs: r.async_timeout_ms, heartbeatMs: r.async_heartbeat_ms },
    batchId: r.batch_id, hasChain: r.has_chain,
  };
}

async function claimRows(ctx: PgCtx, sql: Sql, text: string, name: string, want: Map<string, number>, now: number, token: number): Promise<ClaimRow[]> {
  if (want.size === 0) return [];
  return sql.query<ClaimRow>(text, [[...want.keys()], [...want.values()], nowParam(ctx, now), ctx.nodeId, token], name);
}

/** A random claim token (53 bits). */
export function claimToken(): number {
  return Math.floor(Math.random() * 2 ** 53);
}

interface LockedQueue {
  name: string; concurrency: number | null; rate_per_second: number | null; paused: boolean; tokens: number | null; tokens_at: number | null;
  now: number; running: number; key_concurrency: number | null; key_cursor: string | null;
}

/**
 * Queues with a limit, claimed in one transaction that holds their rows locked: concurrency
 * counts every node's running attempts and the token bucket lives in the row, so the cluster
 * as a whole stays within both (api.md §9). Claims of one limited queue take turns.
 */
async function claimLimited(ctx: PgCtx, want: Map<string, number>, now: number, token: number): Promise<ClaimRow[]> {
  return ctx.book.tx(async (sql) => {
    const queues = [...want.keys()].sort();
    // Lock first, then count: READ COMMITTED takes a new snapshot for the count, which then
    // includes every claim committed by whoever held the lock before.
    await sql.query('SELECT 1 FROM queues WHERE name = ANY($1::text[]) ORDER BY name FOR UPDATE', [queues], 'aq_lock_queues');
    const locked = await sql.query<LockedQueue>(
      `SELECT q.name, q.concurrency, q.rate_per_second, q.paused, q.tokens, q.tokens_at, ${nowSql(2)} AS now, q.key_concurrency, q.key_cursor,
         (COALESCE((SELECT sum(c.n) FROM counts c WHERE c.queue = q.name AND c.status = 'running'), 0)
           -- open async attempts hold no slot (api.md §10): their request is over
           - (SELECT count(*) FROM tasks a WHERE a.queue = q.name AND a.status = 'running' AND a.awaiting_since IS NOT NULL))::bigint AS running
       FROM queues q WHERE q.name = ANY($1::text[])`,
      [queues, nowParam(ctx, now)],
      'aq_queue_caps',
    );
    const allowed = new Map<string, number>();
    const keyed: { q: LockedQueue; cap: number }[] = [];
    const buckets: { name: string; rate: number; now: number; bucket: tb.Bucket }[] = [];
    for (const q of locked) {
      if (q.paused) continue;
      let cap = want.get(q.name)!;
      if (q.concurrency !== null) cap = Math.min(cap, Math.max(0, q.concurrency - q.running));
      if (q.rate_per_second) {
        const bucket = q.tokens === null || q.tokens_at === null ? tb.fullBucket(q.rate_per_second, q.now) : { tokens: q.tokens, at: q.tokens_at };
        cap = Math.min(cap, tb.available(bucket, q.rate_per_second, q.now));
        if (cap > 0) buckets.push({ name: q.name, rate: q.rate_per_second, now: q.now, bucket });
      }
      if (cap > 0) allowed.set(q.name, cap);
      if (cap > 0 && q.key_concurrency !== null) keyed.push({ q, cap });
    }
    for (const { q } of keyed) allowed.delete(q.name);
    const rows = await claimRows(ctx, sql, CLAIM_ANY, 'aq_claim_any', allowed, now, token);
    // api.md §12: keyed queues take turns between their keys, each key within keyConcurrency (keys.ts).
    for (const { q, cap } of keyed) {
      const seqs = await pickKeyed(sql, q.name, cap, q.key_concurrency!, q.key_cursor, nowParam(ctx, now));
      if (seqs.length === 0) continue;
      rows.push(...(await sql.query<ClaimRow>(CLAIM_SEQS, [seqs, nowParam(ctx, now), ctx.nodeId, token], 'aq_claim_seqs')));
    }
    if (buckets.length > 0) {
      const taken = new Map<string, number>();
      for (const r of rows) taken.set(r.queue, (taken.get(r.queue) ?? 0) + 1);
      const after = buckets.map((b) => tb.take(b.bucket, b.rate, b.now, taken.get(b.name) ?? 0));
      await sql.query(
        `UPDATE queues q SET tokens = u.tokens, tokens_at = u.at FROM unnest($1::text[], $2::float8[], $3::bigint[]) AS u(name, tokens, at)
         WHERE q.name = u.name`,
        [buckets.map((b) => b.name), after.map((a) => a.tokens), after.map((a) => a.at)],
        'aq_take_tokens',
      );
    }
    return rows;
  });
}

/**
 * Claims up to `perQueue[q]` due tasks of each queue. Queues this node knows to be limited go
 * through claimLimited; the rest are claimed in one statement that itself skips any queue
 * that is paused or limited (a limit set on another node a moment ago is never overrun).
 */
export async function claimTasks(ctx: PgCtx, perQueue: Map<string, number>, now: number, limits: QueueLimits[] | undefined, token: number): Promise<ClaimedTask[]> {
  const limited = new Set(
    (limits ?? []).filter((q) => q.paused || q.concurrency !== null || q.ratePerSecond !== null || q.keyConcurrency !== null).map((q) => q.name),
  );
  const fast = new Map<string, number>();
  const slow = new Map<string, number>();
  for (const [q, n] of perQueue) if (n > 0) (limited.has(q) ? slow : fast).set(q, n);
  const [a, b] = await Promise.all([
    claimRows(ctx, ctx.book, CLAIM_UNLIMITED, 'aq_claim_unlimited', fast, now, token),
    slow.size > 0 ? claimLimited(ctx, slow, now, token) : Promise.resolve([]),
  ]);
  const rows = a.concat(b);
  rows.sort((x, y) => (x.queue < y.queue ? -1 : x.queue > y.queue ? 1 : 0) || y.priority - x.priority || x.run_at - y.run_at || x.seq - y.seq);
  ctx.signals.fire(rows.map((r) => taskEvent(r.id, r.queue, 'running', r.attempts, r.started_at)));
  return rows.map(toClaimed);
}

export async function dueQueues(ctx: PgCtx, queues: string[], now: number): Promise<string[]> {
  if (queues.length === 0) return [];
  const rows = await ctx.db.query<{ queue: string }>(
    `SELECT q.queue FROM unnest($1::text[]) AS q(queue)
     WHERE EXISTS (SELECT 1 FROM tasks t WHERE t.status = 'pending' AND t.queue = q.queue AND t.run_at <= ${nowSql(2)})`,
    [queues, nowParam(ctx, now)],
    'aq_due_queues',
  );
  const due = new Set(rows.map((r) => r.queue));
  return queues.filter((q) => due.has(q));
}

export async function nextDueAt(ctx: PgCtx, queues: string[]): Promise<number | null> {
  if (queues.length === 0) return null;
  const [r] = await ctx.db.query<{ m: number | null }>(
    `SELECT min(m) AS m FROM unnest($1::text[]) AS q(queue)
     CROSS JOIN LATERAL (SELECT min(run_at) AS m FROM tasks t WHERE t.status = 'pending' AND t.queue = q.queue) x`,
    [queues],
    'aq_next_due',
  );
  return r?.m ?? null;
}

export async function nextDeliveryAt(ctx: PgCtx): Promise<number | null> {
  const [r] = await ctx.db.query<{ m: number | null }>(
    `SELECT least((SELECT min(webhook_run_at) FROM tasks WHERE webhook_status = 'pending'), (SELECT min(webhook_run_at) FROM batches WHERE webhook_status = 'pending')) AS m`,
    [],
    'aq_next_delivery',
  );
  return r?.m ?? null;
}

// One statement records every attempt, applies each decision where the task is still running
// that attempt on this node (status, attempt number and owner guard it: a late answer cannot
// overwrite a cancel, a retry or another node's attempt), opens webhook deliveries (the outbox)
// and adds the per-minute stats (of attempts recorded now: repeating a finish whose answer was
// lost counts nothing twice). $1..$11 are the columns of the batch, $12 this node.
export const FINISH_SQL = `WITH r AS (
    SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[], $5::int[], $6::text[], $7::text[], $8::text[], $9::text[],
      $10::bigint[], $11::bigint[], $13::bigint[]) AS r(id, attempt, started_at, duration_ms, http_status, error, next, result, next_error, run_at, now,
      retry_after_ms)
  ),
  -- each result's row by its id, locked: one index lookup each (LIMIT keeps the planner from
  -- making it a join), and the guard (still running this attempt, on this node) read from the
  -- newest row version, which stays as it is until this statement commits
  found AS (
    -- an open async attempt (after its 202) is ended only by async.ts, never by a late answer
    SELECT r.*, x.seq, (x.status = 'running' AND x.attempts = r.attempt AND x.claimed_by = $12 AND x.awaiting_since IS NULL) AS live
    FROM r CROSS JOIN LATERAL (SELECT t.seq, t.status, t.attempts, t.claimed_by, t.awaiting_since FROM tasks t WHERE t.id = r.id LIMIT 1 FOR UPDATE) x
  ),
  recorded AS (
    INSERT INTO attempts (task_id, n, started_at, duration_ms, status, error, retry_after_ms)
    SELECT f.id, f.attempt, f.started_at, f.duration_ms, f.http_status, f.error, f.retry_after_ms FROM found f
    ON CONFLICT DO NOTHING
    RETURNING started_at, status
  ),
  applied AS (
    UPDATE tasks t SET
      status = r.next,
      run_at = CASE WHEN r.next = 'pending' THEN r.run_at ELSE t.run_at END,
      result = CASE WHEN r.next = 'completed' THEN r.result ELSE t.result END,
      error = CASE WHEN r.next = 'completed' THEN NULL ELSE r.next_error END,
      updated_at = r.now,
      completed_at = CASE WHEN r.next = 'pending' THEN t.completed_at ELSE r.now END,
      webhook_status = CASE WHEN r.next = 'pending' THEN t.webhook_status WHEN t.webhook_url IS NULL THEN NULL ELSE 'pending' END,
      webhook_run_at = CASE WHEN r.next = 'pending' THEN t.webhook_run_at WHEN t.webhook_url IS NULL THEN NULL ELSE r.now END,
      webhook_attempts = CASE WHEN r.next = 'pending' THEN t.webhook_attempts ELSE 0 END,
      webhook_attempts_base = CASE WHEN r.next = 'pending' THEN t.webhook_attempts_base ELSE 0 END,
      -- a task's end in completed or failed is its next outcome (api.md §16: webhook-id <id>.<outcomes>)
      outcomes = CASE WHEN r.next = 'pending' THEN t.outcomes ELSE t.outcomes + 1 END,
      webhook_error = CASE WHEN r.next = 'pending' THEN t.webhook_error ELSE NULL END,
      claimed_by = NULL, claim_token = NULL
    FROM found r WHERE t.seq = r.seq AND r.live
    RETURNING t.id, t.queue, t.status, t.updated_at
  ),
  tally AS (
    SELECT minute, sum(d)::bigint AS d, sum(c)::bigint AS c, sum(f)::bigint AS f FROM (
      SELECT x.started_at / 60000 AS minute, 1 AS d, 0 AS c,
        CASE WHEN x.status IS NULL OR x.status < 200 OR x.status > 299 THEN 1 ELSE 0 END AS f FROM recorded x
      UNION ALL SELECT a.updated_at / 60000, 0, 1, 0 FROM applied a WHERE a.status = 'completed'
    ) x GROUP BY minute
  ),
  stats AS (
    INSERT INTO minute_stats AS m (minute, shard, dispatched, completed, failed)
    SELECT minute, aq_shard(), d, c, f FROM tally ORDER BY minute
    ON CONFLICT (minute, shard) DO UPDATE SET dispatched = m.dispatched + excluded.dispatched,
      completed = m.completed + excluded.completed, failed = m.failed + excluded.failed
  )
  SELECT id, queue FROM applied`;

export async function finishAttempts(ctx: PgCtx, results: AttemptFinish[]): Promise<boolean[]> {
  if (results.length === 0) return [];
  const cols: unknown[][] = Array.from({ length: 11 }, () => new Array(results.length));
  results.forEach((r, i) => {
    const n = r.next;
    const v = [
      r.id, r.attempt, r.startedAt, r.durationMs, r.httpStatus ?? null, r.error ? JSON.stringify(r.error) : null, n.status,
      n.status === 'completed' ? n.resultJson : null, n.status === 'completed' ? null : JSON.stringify(n.error),
      n.status === 'pending' ? n.runAt : null, r.now,
    ];
    for (let c = 0; c < 11; c++) cols[c]![i] = v[c];
  });
  const args = [...cols, ctx.nodeId, results.map((r) => r.retryAfterMs ?? null)];
  // Follow-up tasks (QStash callbacks, chain steps) are created in the same transaction, for applied decisions only.
  const announce = (applied: Map<string, string>) => {
    const events = [];
    for (const r of results) {
      const queue = applied.get(r.id);
      if (queue !== undefined) events.push(taskEvent(r.id, queue, r.next.status, r.attempt, r.now));
    }
    ctx.signals.fire(events);
  };
  if (!results.some((r) => (r.followUps && r.followUps.length > 0) || r.hasChain)) {
    const applied = new Map((await ctx.book.query<{ id: string; queue: string }>(FINISH_SQL, args, 'aq_finish_attempts')).map((r) => [r.id, r.queue]));
    announce(applied);
    await markBatchesDone(ctx, results, applied);
    return results.map((r) => applied.has(r.id));
  }
  const committed: (() => void)[] = [];
  const applied = await ctx.book.tx(async (sql) => {
    const applied = new Map((await sql.query<{ id: string; queue: string }>(FINISH_SQL, args, 'aq_finish_attempts')).map((r) => [r.id, r.queue]));
    const followUps = results.filter((r) => applied.has(r.id)).flatMap((r) => r.followUps ?? []);
    if (followUps.length > 0) await insertTasks(ctx, sql, followUps, (fn) => committed.push(fn));
    for (const r of results) {
      if (r.hasChain && r.next.status !== 'pending' && applied.has(r.id)) r.chained = await createFollowUp(ctx, sql, r.id, r.now, (fn) => committed.push(fn));
    }
    return applied;
  });
  announce(applied);
  for (const fn of committed) fn();
  await markBatchesDone(ctx, results, applied);
  return results.map((r) => applied.has(r.id));
}

/** Sets `batchDone` on the applied ends of batch members whose batch is now done with its webhook due (one read, only when batches are involved). */
async function markBatchesDone(ctx: PgCtx, results: AttemptFinish[], applied: Map<string, string>): Promise<void> {
  const ids = [...new Set(results.filter((r) => r.batchId && r.next.status !== 'pending' && applied.has(r.id)).map((r) => r.batchId!))];
  if (ids.length === 0) return;
  const due = new Set((await ctx.db.query<{ id: string }>(
    `SELECT id FROM batches WHERE id = ANY($1::text[]) AND webhook_status = 'pending' AND pending + running = 0`, [ids], 'aq_batches_due',
  )).map((b) => b.id));
  for (const r of results) if (r.batchId && due.has(r.batchId) && r.next.status !== 'pending' && applied.has(r.id)) r.batchDone = true;
}

/**
 * api.md §13: a task that just ended completed or failed creates its `then` / `onFailure` step's
 * task inside the caller's transaction and links both; returns the created task, if any.
 */
export async function createFollowUp(ctx: PgCtx, sql: Sql, id: string, now: number, afterCommit: (fn: () => void) => void): Promise<NewTask | undefined> {
  const [p] = await sql.query<{ id: string; queue: string; status: string; payload: string; result: string | null; error: string | null; attempts: number; completed_at: number; chain: string | null }>(
    'SELECT id, queue, status, payload, result, error, attempts, completed_at, chain FROM tasks WHERE id = $1',
    [id],
    'aq_chain_parent',
  );
  if (!p || (p.status !== 'completed' && p.status !== 'failed')) return undefined;
  const next = followUpOf({
    id: p.id, queue: p.queue, status: p.status, payloadJson: p.payload, resultJson: p.result, errorJson: p.error, attempts: p.attempts,
    completedAt: Number(p.completed_at), chainJson: p.chain,
  }, now);
  if (!next) return undefined;
  await insertTasks(ctx, sql, [next], afterCommit);
  await sql.query('UPDATE tasks SET next_task_id = $2 WHERE id = $1', [id, next.id], 'aq_chain_link');
  return next;
}

// $1 now (null: database clock), $2 limit, $3 this node, $4 the claim's token. The history row of
// each delivery attempt is opened in the same statement (duration null while in flight).
const CLAIM_DELIVERIES = `WITH now AS (SELECT ${nowSql(1)} AS ms),
  picked AS (
    SELECT t.seq FROM tasks t, now WHERE t.webhook_status = 'pending' AND t.webhook_run_at <= now.ms
    ORDER BY t.webhook_run_at LIMIT $2 FOR UPDATE SKIP LOCKED
  ),
  claimed AS (
    UPDATE tasks t SET webhook_status = 'sending', webhook_attempts = t.webhook_attempts + 1, webhook_claimed_by = $3,
      webhook_claim_token = $4
    FROM picked WHERE t.seq = picked.seq
    RETURNING t.id, t.status, t.queue, t.payload, t.result, t.error, t.attempts, t.completed_at, t.webhook_url, t.webhook_retries,
      t.webhook_attempts, t.webhook_attempts_base, t.outcomes, t.timeout_ms, t.backoff, t.webhook_run_at
  ),
  opened AS (
    INSERT INTO deliveries (task_id, outcome, attempt, started_at, claimed_by)
    SELECT c.id, c.outcomes, c.webhook_attempts, now.ms, $3 FROM claimed c, now
    ON CONFLICT DO NOTHING
  )
  SELECT claimed.*, now.ms AS started_at FROM claimed, now`;

interface DeliveryRow {
  id: string; status: string; queue: string; payload: string; result: string | null; error: string | null; attempts: number;
  completed_at: number; webhook_url: string; webhook_retries: number; webhook_attempts: number; webhook_attempts_base: number;
  outcomes: number; timeout_ms: number; backoff: string; webhook_run_at: number; started_at: number;
}

// The batches' `batch.done` webhooks (api.md §13), claimed as the tasks' are.
const CLAIM_BATCH_DELIVERIES = `WITH now AS (SELECT ${nowSql(1)} AS ms),
  picked AS (
    SELECT b.id FROM batches b, now WHERE b.webhook_status = 'pending' AND b.webhook_run_at <= now.ms
    ORDER BY b.webhook_run_at LIMIT $2 FOR UPDATE SKIP LOCKED
  ),
  claimed AS (
    UPDATE batches b SET webhook_status = 'sending', webhook_attempts = b.webhook_attempts + 1, webhook_claimed_by = $3, webhook_claim_token = $4
    FROM picked WHERE b.id = picked.id
    RETURNING b.*
  ),
  opened AS (
    INSERT INTO deliveries (task_id, outcome, attempt, started_at, claimed_by)
    SELECT c.id, c.outcomes, c.webhook_attempts, now.ms, $3 FROM claimed c, now
    ON CONFLICT DO NOTHING
  )
  SELECT claimed.*, now.ms AS started_at FROM claimed, now`;

export async function claimDeliveries(ctx: PgCtx, limit: number, now: number, token: number): Promise<ClaimedDelivery[]> {
  const rows = await ctx.book.query<DeliveryRow>(CLAIM_DELIVERIES, [nowParam(ctx, now), limit, ctx.nodeId, token], 'aq_claim_deliveries');
  rows.sort((a, b) => a.webhook_run_at - b.webhook_run_at);
  const batches = rows.length < limit
    ? await ctx.book.query<BatchRow & { webhook_attempts_base: number; started_at: number }>(
        CLAIM_BATCH_DELIVERIES, [nowParam(ctx, now), limit - rows.length, ctx.nodeId, token], 'aq_claim_batch_deliveries')
    : [];
  return batches.map((b) => batchDelivery(b, Number(b.started_at))).concat(rows.map((r) => ({
    id: r.id,
    webhookUrl: r.webhook_url,
    // api.md §5 webhook body, assembled from the stored JSON texts without re-encoding them
    bodyJson: `{"id":${JSON.stringify(r.id)},"status":${JSON.stringify(r.status)},"queue":${JSON.stringify(r.queue)},"payload":${r.payload},"result":${r.result ?? 'null'},"error":${r.error ?? 'null'},"attempts":${r.attempts},"completedAt":${JSON.stringify(new Date(r.completed_at).toISOString())}}`,
    outcome: r.outcomes,
    attempt: r.webhook_attempts,
    attemptsBase: r.webhook_attempts_base,
    startedAt: r.started_at,
    webhookRetries: r.webhook_retries,
    timeoutMs: r.timeout_ms,
    backoff: JSON.parse(r.backoff),
  })));
}

/**
 * Records each delivery attempt in the history and applies its decision, guarded by outcome,
 * attempt and owner: a late answer to a delivery the task has moved past (a retry ended it
 * again, a re-delivery superseded it, another node took it over) changes nothing.
 */
export async function finishDeliveries(ctx: PgCtx, results: DeliveryFinish[]): Promise<void> {
  if (results.length === 0) return;
  const batches = results.filter((r) => isBatchId(r.id));
  if (batches.length > 0) {
    await finishBatchDeliveries(ctx, batches);
    results = results.filter((r) => !isBatchId(r.id));
    if (results.length === 0) return;
  }
  const cols: unknown[][] = Array.from({ length: 8 }, () => new Array(results.length));
  results.forEach((r, i) => {
    const n = r.next;
    const v = [r.id, r.outcome, r.attempt, r.durationMs, r.httpStatus ?? null, n.status, n.status === 'pending' ? n.runAt : null,
      n.status === 'delivered' ? null : JSON.stringify(n.error)];
    for (let c = 0; c < 8; c++) cols[c]![i] = v[c];
  });
  await ctx.book.query(
    `WITH u AS (
       SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::bigint[], $5::int[], $6::text[], $7::bigint[], $8::text[])
         AS u(id, outcome, attempt, duration_ms, http_status, status, run_at, error)
     ),
     recorded AS (
       UPDATE deliveries d SET duration_ms = u.duration_ms, status = u.http_status, error = u.error
       FROM u WHERE d.task_id = u.id AND d.outcome = u.outcome AND d.attempt = u.attempt AND d.duration_ms IS NULL
     ),
     -- by id, locked, guard read from the newest version (see FINISH_SQL: no scan of every delivery in flight)
     found AS (
       SELECT u.*, x.seq, (x.webhook_status = 'sending' AND x.outcomes = u.outcome AND x.webhook_attempts = u.attempt
         AND x.webhook_claimed_by = $9) AS live
       FROM u CROSS JOIN LATERAL (
         SELECT t.seq, t.webhook_status, t.outcomes, t.webhook_attempts, t.webhook_claimed_by FROM tasks t WHERE t.id = u.id LIMIT 1 FOR UPDATE
       ) x
     )
     UPDATE tasks t SET webhook_status = u.status, webhook_run_at = u.run_at, webhook_error = u.error, webhook_claimed_by = NULL,
       webhook_claim_token = NULL
     FROM found u WHERE t.seq = u.seq AND u.live`,
    [...cols, ctx.nodeId],
    'aq_finish_deliveries',
  );
}

/** finishDeliveries for `batch.done` webhooks: the same guards, on the batch row. */
async function finishBatchDeliveries(ctx: PgCtx, results: DeliveryFinish[]): Promise<void> {
  for (const r of results) {
    const n = r.next;
    const error = n.status === 'delivered' ? null : JSON.stringify(n.error);
    await ctx.book.query(
      `WITH recorded AS (
         UPDATE deliveries SET duration_ms = $4, status = $5, error = $8 WHERE task_id = $1 AND outcome = $2 AND attempt = $3 AND duration_ms IS NULL
       )
       UPDATE batches SET webhook_status = $6, webhook_run_at = $7, webhook_error = $8, webhook_claimed_by = NULL, webhook_claim_token = NULL
       WHERE id = $1 AND webhook_status = 'sending' AND outcomes = $2 AND webhook_attempts = $3 AND webhook_claimed_by = $9`,
      [r.id, r.outcome, r.attempt, r.durationMs, r.httpStatus ?? null, n.status, n.status === 'pending' ? n.runAt : null, error, ctx.nodeId],
      'aq_finish_batch_delivery',
    );
  }
}

const INTERRUPTED: TaskError = { type: 'interrupted', message: 'the server stopped while this attempt was in flight' };

/**
 * Running tasks of this node (or of no node) go back to pending, due now, with an
 * `interrupted` attempt; the running work of other nodes is never touched (api.md §9). Same
 * for webhook deliveries being sent. One statement, so a crash halfway leaves nothing half done.
 */
export async function recoverInterrupted(ctx: PgCtx, now: number): Promise<{ tasks: number; deliveries: number }> {
  const [r] = await ctx.db.query<{ tasks: number; deliveries: number; events: PendingRow[] | null }>(
    `WITH now AS (SELECT ${nowSql(1)} AS ms),
     ${interruptSql((column) => `${column} = $3`)}
     SELECT ${INTERRUPTED_COUNTS}`,
    [nowParam(ctx, now), JSON.stringify(INTERRUPTED), ctx.nodeId],
  );
  firePending(ctx, r?.events);
  return { tasks: r?.tasks ?? 0, deliveries: r?.deliveries ?? 0 };
}

const RELEASED: TaskError = { type: 'interrupted', message: 'the connection to the database was lost while this attempt was being claimed' };

/**
 * Gives back the tasks (and webhook deliveries) of claims whose answer never arrived (the connection dropped after the
 * database committed them): they were never started, so they go back to pending, due now, with
 * an `interrupted` attempt, as after a crash. Returns how many.
 */
export async function releaseClaims(ctx: PgCtx, tokens: number[]): Promise<number> {
  const [r] = await ctx.book.query<{ n: number; events: PendingRow[] | null }>(
    `WITH lost AS (
       SELECT seq, updated_at AS started FROM tasks WHERE claimed_by = $1 AND claim_token = ANY($2::bigint[]) AND status = 'running'
         AND awaiting_since IS NULL
       ORDER BY seq FOR UPDATE
     ),
     reset AS (
       UPDATE tasks t SET status = 'pending', run_at = aq_now_ms(), error = $3, updated_at = aq_now_ms(), claimed_by = NULL, claim_token = NULL
       FROM lost WHERE t.seq = lost.seq
       RETURNING t.id, t.queue, t.attempts, t.updated_at AS at, lost.started
     ),
     recorded AS (
       INSERT INTO attempts (task_id, n, started_at, duration_ms, status, error)
       SELECT id, attempts, started, GREATEST(0, aq_now_ms() - started), NULL, $3 FROM reset
       ON CONFLICT DO NOTHING
     ),
     reopened AS (
       UPDATE tasks t SET webhook_status = 'pending', webhook_run_at = aq_now_ms(), webhook_claimed_by = NULL, webhook_claim_token = NULL
       WHERE t.webhook_claimed_by = $1 AND t.webhook_claim_token = ANY($2::bigint[]) AND t.webhook_status = 'sending'
       RETURNING t.id, t.outcomes, t.webhook_attempts
     ),
     closed AS (
       UPDATE deliveries d SET duration_ms = GREATEST(0, aq_now_ms() - d.started_at), error = $3 FROM reopened r
       WHERE d.task_id = r.id AND d.outcome = r.outcomes AND d.attempt = r.webhook_attempts AND d.duration_ms IS NULL
     ),
     reopened_batches AS (
       UPDATE batches b SET webhook_status = 'pending', webhook_run_at = aq_now_ms(), webhook_claimed_by = NULL, webhook_claim_token = NULL
       WHERE b.webhook_claimed_by = $1 AND b.webhook_claim_token = ANY($2::bigint[]) AND b.webhook_status = 'sending'
       RETURNING b.id, b.outcomes, b.webhook_attempts
     ),
     closed_batches AS (
       UPDATE deliveries d SET duration_ms = GREATEST(0, aq_now_ms() - d.started_at), error = $3 FROM reopened_batches r
       WHERE d.task_id = r.id AND d.outcome = r.outcomes AND d.attempt = r.webhook_attempts AND d.duration_ms IS NULL
     )
     SELECT (SELECT count(*) FROM reset)::int + (SELECT count(*) FROM reopened)::int + (SELECT count(*) FROM reopened_batches)::int AS n,
       (SELECT json_agg(json_build_array(id, queue, attempts, at)) FROM reset) AS events`,
    [ctx.nodeId, tokens, JSON.stringify(RELEASED)],
  );
  firePending(ctx, r?.events);
  return r?.n ?? 0;
}
