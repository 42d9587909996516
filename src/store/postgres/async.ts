// SQL for async completion (api.md §10) on PostgreSQL, the same rules as sqlite/async.ts: the
// 202 that keeps an attempt open (and makes it nobody's: no node's rescuer takes it), its end by
// complete, fail or the deadline, heartbeats, and the deadline queries. Each is one guarded
// statement; two racing ends of one attempt serialize on the row lock and only one applies.
// Times come from the database's clock unless the store was opened with dbTime false.
import type { Task } from '../../shared/types.js';
import { toTask, type TaskRow } from '../sqlite/rows.js';
import type { AsyncAttemptState, AsyncEnd, AttemptAccept } from '../store.js';
import { nowParam, nowSql, type PgCtx } from './context.js';
import { taskEvent } from '../signals.js';
import { createFollowUp } from './dispatch.js';

const STATE_COLUMNS = `t.id, t.queue, t.status, t.attempts, t.attempts_base, t.retries, t.backoff, t.async_timeout_ms, t.async_heartbeat_ms,
  t.webhook_url IS NOT NULL AS has_webhook, t.awaiting_since, t.awaiting_deadline, t.awaiting_heartbeat_at`;

interface StateRow {
  id: string; queue: string; status: Task['status']; attempts: number; attempts_base: number; retries: number; backoff: string;
  async_timeout_ms: number | null; async_heartbeat_ms: number | null; has_webhook: boolean;
  awaiting_since: number | null; awaiting_deadline: number | null; awaiting_heartbeat_at: number | null; ended: AsyncAttemptState['ended'];
}

function toState(r: StateRow): AsyncAttemptState {
  const awaiting =
    r.status === 'running' && r.awaiting_since !== null && r.awaiting_deadline !== null
      ? { since: r.awaiting_since, deadline: r.awaiting_deadline, heartbeatAt: r.awaiting_heartbeat_at }
      : null;
  return {
    id: r.id, queue: r.queue, status: r.status, attempts: r.attempts, attemptsBase: r.attempts_base, retries: r.retries,
    backoff: JSON.parse(r.backoff), hasWebhook: r.has_webhook, awaiting, ended: r.ended ?? null,
    async: r.async_timeout_ms === null ? null : { timeoutMs: r.async_timeout_ms, heartbeatMs: r.async_heartbeat_ms },
  };
}

// $1..$4 the accepts, $5 this node. The deadline is computed here, from the row's settings.
const ACCEPT = `WITH a AS (
    SELECT a.id, a.attempt, a.started_at, COALESCE(a.now, aq_now_ms()) AS now
    FROM unnest($1::text[], $2::int[], $3::bigint[], $4::bigint[]) AS a(id, attempt, started_at, now)
  ),
  opened AS (
    UPDATE tasks t SET awaiting_since = a.now,
      awaiting_deadline = a.now + LEAST(COALESCE(t.async_heartbeat_ms, t.async_timeout_ms), t.async_timeout_ms),
      claimed_by = NULL, claim_token = NULL
    FROM a WHERE t.id = a.id AND t.status = 'running' AND t.attempts = a.attempt AND t.claimed_by = $5
      AND t.awaiting_since IS NULL AND t.async_timeout_ms IS NOT NULL
    RETURNING t.id, a.attempt, a.started_at, a.now
  ),
  recorded AS (
    INSERT INTO attempts (task_id, n, started_at, duration_ms, status, accepted_at)
    SELECT id, attempt, started_at, NULL, 202, now FROM opened ON CONFLICT DO NOTHING
  ),
  stats AS (
    INSERT INTO minute_stats AS m (minute, shard, dispatched)
    SELECT started_at / 60000, aq_shard(), count(*) FROM opened GROUP BY 1 ORDER BY 1
    ON CONFLICT (minute, shard) DO UPDATE SET dispatched = m.dispatched + excluded.dispatched
  )
  SELECT id FROM opened`;

export async function acceptAttempts(ctx: PgCtx, accepts: AttemptAccept[]): Promise<boolean[]> {
  if (accepts.length === 0) return [];
  const rows = await ctx.book.query<{ id: string }>(
    ACCEPT,
    [accepts.map((a) => a.id), accepts.map((a) => a.attempt), accepts.map((a) => a.startedAt), accepts.map((a) => nowParam(ctx, a.now)), ctx.nodeId],
    'aq_accept_attempts',
  );
  const opened = new Set(rows.map((r) => r.id));
  return accepts.map((a) => opened.has(a.id));
}

export async function asyncAttempt(ctx: PgCtx, id: string, attempt?: number): Promise<AsyncAttemptState | undefined> {
  const [row] = await ctx.db.query<StateRow>(
    `SELECT ${STATE_COLUMNS}, (SELECT x.ended FROM attempts x WHERE x.task_id = t.id AND x.n = COALESCE($2::int, t.attempts)) AS ended
     FROM tasks t WHERE t.id = $1`,
    [id, attempt ?? null],
    'aq_async_attempt',
  );
  return row && toState(row);
}

// $1 id, $2 attempt, $3 now, $4 next status, $5 result, $6 error, $7 run_at, $8 how it ended.
// `unchained`: only a task without then/onFailure steps (one statement, no transaction needed).
const endSql = (timeout: boolean, unchained: boolean) => `WITH now AS (SELECT ${nowSql(3)} AS ms),
  cur AS (
    SELECT t.seq, t.updated_at, t.awaiting_since, t.awaiting_heartbeat_at FROM tasks t, now
    WHERE t.id = $1 AND t.status = 'running' AND t.attempts = $2 AND t.async_timeout_ms IS NOT NULL${unchained ? ' AND t.chain IS NULL' : ''}
      AND ${timeout ? 't.awaiting_since IS NOT NULL AND t.awaiting_deadline <= now.ms' : '(t.awaiting_since IS NULL OR t.awaiting_deadline > now.ms)'}
    FOR UPDATE
  ),
  upd AS (
    UPDATE tasks t SET status = $4::text,
      result = CASE WHEN $4::text = 'completed' THEN $5::text ELSE t.result END,
      error = CASE WHEN $4::text = 'completed' THEN NULL ELSE $6::text END,
      run_at = CASE WHEN $4::text = 'pending' THEN $7::bigint ELSE t.run_at END,
      updated_at = now.ms,
      completed_at = CASE WHEN $4::text = 'pending' THEN t.completed_at ELSE now.ms END,
      webhook_status = CASE WHEN $4::text = 'pending' THEN t.webhook_status WHEN t.webhook_url IS NULL THEN NULL ELSE 'pending' END,
      webhook_run_at = CASE WHEN $4::text = 'pending' THEN t.webhook_run_at WHEN t.webhook_url IS NULL THEN NULL ELSE now.ms END,
      webhook_attempts = CASE WHEN $4::text = 'pending' THEN t.webhook_attempts ELSE 0 END,
      webhook_attempts_base = CASE WHEN $4::text = 'pending' THEN t.webhook_attempts_base ELSE 0 END,
      outcomes = CASE WHEN $4::text = 'pending' THEN t.outcomes ELSE t.outcomes + 1 END,
      webhook_error = CASE WHEN $4::text = 'pending' THEN t.webhook_error ELSE NULL END,
      awaiting_since = NULL, awaiting_deadline = NULL, awaiting_heartbeat_at = NULL, claimed_by = NULL, claim_token = NULL
    FROM cur, now WHERE t.seq = cur.seq
    RETURNING t.*
  ),
  recorded AS (
    INSERT INTO attempts AS x (task_id, n, started_at, duration_ms, status, error, ended, ended_at, heartbeat_at)
    SELECT $1, $2, cur.updated_at, GREATEST(0, now.ms - cur.updated_at), NULL, $6::text, $8::text, now.ms, cur.awaiting_heartbeat_at FROM cur, now
    ON CONFLICT (task_id, n) DO UPDATE SET duration_ms = GREATEST(0, excluded.ended_at - x.started_at), error = excluded.error,
      ended = excluded.ended, ended_at = excluded.ended_at, heartbeat_at = excluded.heartbeat_at
  ),
  tally AS (
    SELECT minute, sum(d)::bigint AS d, sum(c)::bigint AS c, sum(f)::bigint AS f FROM (
      SELECT cur.updated_at / 60000 AS minute, CASE WHEN cur.awaiting_since IS NULL THEN 1 ELSE 0 END AS d, 0 AS c,
        CASE WHEN $4::text = 'completed' THEN 0 ELSE 1 END AS f FROM cur
      UNION ALL SELECT now.ms / 60000, 0, 1, 0 FROM cur, now WHERE $4::text = 'completed'
    ) y GROUP BY minute
  ),
  stats AS (
    INSERT INTO minute_stats AS m (minute, shard, dispatched, completed, failed)
    SELECT minute, aq_shard(), d, c, f FROM tally ORDER BY minute
    ON CONFLICT (minute, shard) DO UPDATE SET dispatched = m.dispatched + excluded.dispatched,
      completed = m.completed + excluded.completed, failed = m.failed + excluded.failed
  )
  SELECT * FROM upd`;
const END_BY_TARGET = endSql(false, false);
const END_BY_TIMEOUT = endSql(true, false);
const END_UNCHAINED_BY_TARGET = endSql(false, true);
const END_UNCHAINED_BY_TIMEOUT = endSql(true, true);

export async function endAsyncAttempt(ctx: PgCtx, e: AsyncEnd): Promise<Task | undefined> {
  const n = e.next;
  const committed: (() => void)[] = [];
  const timeout = e.ended === 'timeout';
  // The target's complete or fail is acknowledged after a durable commit; a timeout is bookkeeping.
  const pool = timeout ? ctx.book : ctx.db;
  const args = [
    e.id, e.attempt, nowParam(ctx, e.now), n.status, n.status === 'completed' ? n.resultJson : null,
    n.status === 'completed' ? null : JSON.stringify(n.error), n.status === 'pending' ? n.runAt : null, e.ended,
  ];
  // A task without then/onFailure ends in one statement; else (or when the guard refused) see
  // whether it has steps, and if so end it in one transaction with the step's task (api.md §13).
  const [plain] = await pool.query<TaskRow>(timeout ? END_UNCHAINED_BY_TIMEOUT : END_UNCHAINED_BY_TARGET, args, timeout ? 'aq_end_async_plain_timeout' : 'aq_end_async_plain');
  if (plain) {
    ctx.signals.fire([taskEvent(e.id, plain.queue, n.status, e.attempt, e.now)]);
    return toTask(plain);
  }
  const [chained] = await pool.query<{ c: boolean }>('SELECT chain IS NOT NULL AS c FROM tasks WHERE id = $1', [e.id], 'aq_has_chain');
  if (!chained?.c) return undefined;
  const row = await pool.tx(async (sql) => {
    const [r] = await sql.query<TaskRow>(timeout ? END_BY_TIMEOUT : END_BY_TARGET, args, timeout ? 'aq_end_async_timeout' : 'aq_end_async');
    if (r && r.chain !== null && n.status !== 'pending') {
      e.chained = await createFollowUp(ctx, sql, e.id, e.now, (fn) => committed.push(fn));
      if (e.chained) r.next_task_id = e.chained.id;
    }
    return r;
  });
  for (const fn of committed) fn();
  if (row) ctx.signals.fire([taskEvent(e.id, row.queue, n.status, e.attempt, e.now)]);
  return row && toTask(row);
}

// Never past since + async.timeout; never earlier than the deadline already given. Before the
// 202 is recorded the heartbeat is kept and the deadline the 202 will open is answered.
// One UPDATE for both cases (open, or before its 202 is recorded): two UPDATE CTEs would see
// one snapshot, and a heartbeat racing the 202's record would then match neither once the
// row lock is released (READ COMMITTED re-checks only the WHERE of the statement that waited).
const HEARTBEAT = `WITH now AS (SELECT ${nowSql(3)} AS ms)
  UPDATE tasks t SET awaiting_heartbeat_at = now.ms,
    awaiting_deadline = CASE WHEN t.awaiting_since IS NULL OR t.async_heartbeat_ms IS NULL THEN t.awaiting_deadline
      ELSE GREATEST(t.awaiting_deadline, LEAST(now.ms + t.async_heartbeat_ms, t.awaiting_since + t.async_timeout_ms)) END
  FROM now WHERE t.id = $1 AND t.status = 'running' AND t.attempts = $2
    AND ((t.awaiting_since IS NOT NULL AND t.awaiting_deadline > now.ms) OR (t.awaiting_since IS NULL AND t.async_timeout_ms IS NOT NULL))
  RETURNING CASE WHEN t.awaiting_since IS NULL THEN now.ms + LEAST(COALESCE(t.async_heartbeat_ms, t.async_timeout_ms), t.async_timeout_ms)
    ELSE t.awaiting_deadline END AS deadline`;

export async function heartbeatAttempt(ctx: PgCtx, id: string, attempt: number, now: number): Promise<number | undefined> {
  const [row] = await ctx.book.query<{ deadline: number }>(HEARTBEAT, [id, attempt, nowParam(ctx, now)], 'aq_heartbeat');
  return row?.deadline;
}

export async function expiredAttempts(ctx: PgCtx, now: number, limit: number) {
  const rows = await ctx.db.query<StateRow>(
    `SELECT ${STATE_COLUMNS}, NULL AS ended FROM tasks t
     WHERE t.status = 'running' AND t.awaiting_since IS NOT NULL AND t.awaiting_deadline <= ${nowSql(1)}
     ORDER BY t.awaiting_deadline LIMIT $2`,
    [nowParam(ctx, now), limit],
    'aq_expired_attempts',
  );
  return rows.map((r) => toState(r) as AsyncAttemptState & { awaiting: NonNullable<AsyncAttemptState['awaiting']> });
}

export async function nextAsyncDeadline(ctx: PgCtx): Promise<number | null> {
  const [r] = await ctx.db.query<{ m: number | null }>(
    `SELECT min(awaiting_deadline) AS m FROM tasks WHERE status = 'running' AND awaiting_since IS NOT NULL`,
    [],
    'aq_next_async_deadline',
  );
  return r?.m ?? null;
}
