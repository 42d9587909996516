// SQL for async completion (api.md §10): the 202 that keeps an attempt open, its end by the
// target's complete or fail or by its deadline, heartbeats, and the deadline queries the
// dispatcher's timer uses. The awaiting_* columns mean something only while the task is
// `running`; every statement that reads or writes them is guarded by status and attempt.
import type { AsyncAttemptState, AsyncEnd, AttemptAccept } from '../store.js';
import type { Task } from '../../shared/types.js';
import type { Ctx } from './context.js';
import { createFollowUp, WEBHOOK_ON_END } from './dispatch.js';
import { toTask, type TaskRow } from './rows.js';

const RUNS = `id = ? AND status = 'running' AND attempts = ?`;
const CLEAR_AWAITING = `awaiting_since = NULL, awaiting_deadline = NULL, awaiting_heartbeat_at = NULL`;

export function acceptAttempts(ctx: Ctx, accepts: AttemptAccept[]): boolean[] {
  const record = ctx.stmt(`INSERT OR IGNORE INTO attempts (task_id, n, started_at, duration_ms, status, accepted_at)
    SELECT ?, ?, ?, NULL, 202, ? WHERE EXISTS (SELECT 1 FROM tasks WHERE ${RUNS} AND awaiting_since IS NULL)`);
  // awaiting_heartbeat_at is kept: a heartbeat may come before our request has seen the 202.
  const open = ctx.stmt(`UPDATE tasks SET awaiting_since = ?, awaiting_deadline = ?
    WHERE ${RUNS} AND awaiting_since IS NULL`);
  return accepts.map((a) => {
    record.run(a.id, a.attempt, a.startedAt, a.now, a.id, a.attempt);
    const ok = open.run(a.now, a.deadline, a.id, a.attempt).changes > 0;
    if (ok) ctx.tally(a.startedAt, 'dispatched');
    return ok;
  });
}

interface StateRow {
  id: string; queue: string; status: Task['status']; attempts: number; attempts_base: number; retries: number; backoff: string;
  async_timeout_ms: number | null; async_heartbeat_ms: number | null; has_webhook: number;
  awaiting_since: number | null; awaiting_deadline: number | null; awaiting_heartbeat_at: number | null;
}

const STATE_COLUMNS = `id, queue, status, attempts, attempts_base, retries, backoff, async_timeout_ms, async_heartbeat_ms,
  webhook_url IS NOT NULL AS has_webhook, awaiting_since, awaiting_deadline, awaiting_heartbeat_at`;

function toState(r: StateRow, ended: AsyncAttemptState['ended']): AsyncAttemptState {
  const awaiting =
    r.status === 'running' && r.awaiting_since !== null && r.awaiting_deadline !== null
      ? { since: r.awaiting_since, deadline: r.awaiting_deadline, heartbeatAt: r.awaiting_heartbeat_at }
      : null;
  return {
    id: r.id, queue: r.queue, status: r.status, attempts: r.attempts, attemptsBase: r.attempts_base, retries: r.retries,
    backoff: JSON.parse(r.backoff), hasWebhook: r.has_webhook === 1, awaiting, ended,
    async: r.async_timeout_ms === null ? null : { timeoutMs: r.async_timeout_ms, heartbeatMs: r.async_heartbeat_ms },
  };
}

export function asyncAttempt(ctx: Ctx, id: string, attempt?: number): AsyncAttemptState | undefined {
  const row = ctx.stmt(`SELECT ${STATE_COLUMNS} FROM tasks WHERE id = ?`).get(id) as StateRow | undefined;
  if (!row) return undefined;
  const n = attempt ?? row.attempts;
  const rec = ctx.stmt('SELECT ended FROM attempts WHERE task_id = ? AND n = ?').get(id, n) as { ended: AsyncAttemptState['ended'] } | undefined;
  return toState(row, rec?.ended ?? null);
}

export function endAsyncAttempt(ctx: Ctx, e: AsyncEnd): Task | undefined {
  // complete and fail: open while the deadline is ahead (or the 202 is not recorded yet: the
  // target may call back before our request has seen its answer); timeout: the deadline passed.
  const open = e.ended === 'timeout' ? `awaiting_since IS NOT NULL AND awaiting_deadline <= ?` : `(awaiting_since IS NULL OR awaiting_deadline > ?)`;
  const cur = ctx.stmt(`SELECT seq, queue, updated_at, awaiting_since, awaiting_heartbeat_at FROM tasks
    WHERE ${RUNS} AND async_timeout_ms IS NOT NULL AND ${open}`).get(e.id, e.attempt, e.now) as
    | { seq: number; queue: string; updated_at: number; awaiting_since: number | null; awaiting_heartbeat_at: number | null }
    | undefined;
  if (!cur) return undefined;
  const n = e.next;
  const error = n.status === 'completed' ? null : JSON.stringify(n.error);
  // The claim set updated_at to the attempt's start, and nothing changes it while it runs.
  ctx.stmt(`INSERT INTO attempts (task_id, n, started_at, duration_ms, status, error, ended, ended_at, heartbeat_at)
    VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?)
    ON CONFLICT (task_id, n) DO UPDATE SET duration_ms = MAX(0, excluded.ended_at - started_at), error = excluded.error,
      ended = excluded.ended, ended_at = excluded.ended_at, heartbeat_at = excluded.heartbeat_at`)
    .run(e.id, e.attempt, cur.updated_at, Math.max(0, e.now - cur.updated_at), error, e.ended, e.now, cur.awaiting_heartbeat_at);
  if (cur.awaiting_since === null) ctx.tally(cur.updated_at, 'dispatched');
  let row: TaskRow;
  if (n.status === 'completed') {
    row = ctx.stmt(`UPDATE tasks SET status = 'completed', result = ?, error = NULL, updated_at = ?, completed_at = ?, ${WEBHOOK_ON_END}, ${CLEAR_AWAITING}
      WHERE seq = ? RETURNING *`).get(n.resultJson, e.now, e.now, e.now, cur.seq) as TaskRow;
    ctx.tally(e.now, 'completed');
  } else if (n.status === 'failed') {
    row = ctx.stmt(`UPDATE tasks SET status = 'failed', error = ?, updated_at = ?, completed_at = ?, ${WEBHOOK_ON_END}, ${CLEAR_AWAITING}
      WHERE seq = ? RETURNING *`).get(error, e.now, e.now, e.now, cur.seq) as TaskRow;
  } else {
    row = ctx.stmt(`UPDATE tasks SET status = 'pending', run_at = ?, error = ?, updated_at = ?, ${CLEAR_AWAITING} WHERE seq = ? RETURNING *`)
      .get(n.runAt, error, e.now, cur.seq) as TaskRow;
  }
  if (n.status !== 'completed') ctx.tally(cur.updated_at, 'failed');
  ctx.move(cur.queue, 'running', n.status);
  ctx.signal(e.id, cur.queue, n.status, e.attempt, e.now);
  if (row.chain !== null && n.status !== 'pending') {
    e.chained = createFollowUp(ctx, e.id, e.now);
    if (e.chained) row.next_task_id = e.chained.id;
  }
  return toTask(row);
}

export function heartbeatAttempt(ctx: Ctx, id: string, attempt: number, now: number): number | undefined {
  // Never past since + async.timeout; never earlier than the deadline already given.
  const row = ctx.stmt(`UPDATE tasks SET awaiting_heartbeat_at = ?,
      awaiting_deadline = CASE WHEN async_heartbeat_ms IS NULL THEN awaiting_deadline
        ELSE MAX(awaiting_deadline, MIN(? + async_heartbeat_ms, awaiting_since + async_timeout_ms)) END
    WHERE ${RUNS} AND awaiting_since IS NOT NULL AND awaiting_deadline > ? RETURNING awaiting_deadline`)
    .get(now, now, id, attempt, now) as { awaiting_deadline: number } | undefined;
  if (row) return row.awaiting_deadline;
  // Before the 202 is recorded: keep the heartbeat; the deadline is the one the 202 will open.
  const early = ctx.stmt(`UPDATE tasks SET awaiting_heartbeat_at = ? WHERE ${RUNS} AND awaiting_since IS NULL AND async_timeout_ms IS NOT NULL
    RETURNING ? + MIN(COALESCE(async_heartbeat_ms, async_timeout_ms), async_timeout_ms) AS deadline`)
    .get(now, id, attempt, now) as { deadline: number } | undefined;
  return early?.deadline;
}

export function expiredAttempts(ctx: Ctx, now: number, limit: number) {
  const rows = ctx.stmt(`SELECT ${STATE_COLUMNS} FROM tasks WHERE status = 'running' AND awaiting_since IS NOT NULL AND awaiting_deadline <= ?
    ORDER BY awaiting_deadline LIMIT ?`).all(now, limit) as StateRow[];
  return rows.map((r) => toState(r, null) as AsyncAttemptState & { awaiting: NonNullable<AsyncAttemptState['awaiting']> });
}

export function nextAsyncDeadline(ctx: Ctx): number | null {
  return (ctx.stmt(`SELECT MIN(awaiting_deadline) AS m FROM tasks WHERE status = 'running' AND awaiting_since IS NOT NULL`).get() as { m: number | null }).m;
}
