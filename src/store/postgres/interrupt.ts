// The SQL of an interruption (api.md §9), one text for the two that differ only in whose work is
// lost: a node's recovery of its own running work at start (dispatch.ts recoverInterrupted) and
// the leader's rescue of dead nodes' work (cluster.ts rescueDead).
import { taskEvent } from '../signals.js';
import type { PgCtx } from './context.js';

/**
 * The CTEs of one statement that make the lost work pending again, due now. Running tasks (not
 * open async attempts, whose work is at the target, api.md §10) get an `interrupted` attempt,
 * counted in the minute's dispatched and failed; webhook deliveries being sent, of tasks and of
 * batches (api.md §13), have their delivery closed with that error, as have the lost owner's
 * open attempts of deliveries superseded while in flight. The work is lost when its
 * claim column (`claimed_by`, `webhook_claimed_by`) is NULL or `lostOwner(column)` holds;
 * `skipLocked` leaves rows another statement holds (a finish in progress) for the next round.
 * The statement must have a CTE `now` (ms) and the error, as JSON, in $2. What it reads:
 * `reset` (id, queue, attempts, at: the tasks made pending), `reopened` and `reopened_batches`.
 */
export function interruptSql(lostOwner: (column: string) => string, { skipLocked = false } = {}): string {
  const lock = skipLocked ? 'FOR UPDATE SKIP LOCKED' : 'FOR UPDATE';
  const deliveries = (table: string, key: string, s: string) => `sending${s} AS (
       SELECT ${key} FROM ${table} WHERE webhook_status = 'sending' AND (webhook_claimed_by IS NULL OR ${lostOwner('webhook_claimed_by')})
       ORDER BY ${key} ${lock}
     ),
     reopened${s} AS (
       UPDATE ${table} x SET webhook_status = 'pending', webhook_run_at = now.ms, webhook_claimed_by = NULL, webhook_claim_token = NULL
       FROM sending${s} p, now WHERE x.${key} = p.${key}
       RETURNING x.id, x.outcomes, x.webhook_attempts
     ),
     closed${s} AS (
       UPDATE deliveries d SET duration_ms = GREATEST(0, now.ms - d.started_at), error = $2 FROM reopened${s} r, now
       WHERE d.task_id = r.id AND d.outcome = r.outcomes AND d.attempt = r.webhook_attempts AND d.duration_ms IS NULL
     )`;
  return `lost AS (
       SELECT seq, updated_at AS started FROM tasks
       WHERE status = 'running' AND awaiting_since IS NULL AND (claimed_by IS NULL OR ${lostOwner('claimed_by')})
       ORDER BY seq ${lock}
     ),
     reset AS (
       UPDATE tasks t SET status = 'pending', run_at = now.ms, error = $2, updated_at = now.ms, claimed_by = NULL, claim_token = NULL
       FROM lost, now WHERE t.seq = lost.seq
       RETURNING t.id, t.queue, t.attempts, t.updated_at AS at, lost.started
     ),
     recorded AS (
       INSERT INTO attempts (task_id, n, started_at, duration_ms, status, error)
       SELECT id, attempts, started, GREATEST(0, at - started), NULL, $2 FROM reset
       ON CONFLICT DO NOTHING
       RETURNING 1
     ),
     tally AS (
       INSERT INTO minute_stats AS m (minute, shard, dispatched, failed)
       SELECT now.ms / 60000, aq_shard(), count(*), count(*) FROM recorded, now GROUP BY now.ms HAVING count(*) > 0
       ON CONFLICT (minute, shard) DO UPDATE SET dispatched = m.dispatched + excluded.dispatched, failed = m.failed + excluded.failed
     ),
     ${deliveries('tasks', 'seq', '')},
     ${deliveries('batches', 'id', '_batches')},
     -- Open attempts of the lost owner that are no longer the current one of their task or batch
     -- (superseded while in flight): nothing reopens them, so they are closed here. Disjoint from
     -- the closed CTEs above, which take only current attempts (one snapshot for all).
     closed_stray AS (
       UPDATE deliveries d SET duration_ms = GREATEST(0, now.ms - d.started_at), error = $2 FROM now
       WHERE d.duration_ms IS NULL AND d.claimed_by IS NOT NULL AND ${lostOwner('d.claimed_by')}
         AND NOT EXISTS (SELECT 1 FROM tasks t WHERE t.id = d.task_id AND t.webhook_status = 'sending' AND t.outcomes = d.outcome AND t.webhook_attempts = d.attempt)
         AND NOT EXISTS (SELECT 1 FROM batches b WHERE b.id = d.task_id AND b.webhook_status = 'sending' AND b.outcomes = d.outcome AND b.webhook_attempts = d.attempt)
     )`;
}

/** The columns of an interruption's answer: how many tasks and deliveries, and the tasks' events. */
export const INTERRUPTED_COUNTS = `(SELECT count(*) FROM reset)::int AS tasks, ((SELECT count(*) FROM reopened) + (SELECT count(*) FROM reopened_batches))::int AS deliveries,
       (SELECT json_agg(json_build_array(id, queue, attempts, at)) FROM reset) AS events`;

/** [id, queue, attempts, at] of a task a recovery made pending again. */
export type PendingRow = [string, string, number, number];

export function firePending(ctx: PgCtx, rows: PendingRow[] | null | undefined): void {
  if (rows) ctx.signals.fire(rows.map(([id, queue, attempts, at]) => taskEvent(id, queue, 'pending', attempts, at)));
}
