// SQL for the caller's state changes on PostgreSQL: cancel, retry and delete, one task or many
// by filter. Each is one statement: the row is locked, its previous status read and the change
// applied only if that status may be left (api.md §2), so no other writer can slip in between.
import type { BulkFilter, RedeliverFilter, TaskError, TaskStatus } from '../../shared/types.js';
import type { BatchRedeliverResult, BulkResult, RedeliverResult, Refusal, Transition } from '../store.js';
import { toBatch, toTask, type BatchRow, type TaskRow } from '../sqlite/rows.js';
import type { PgCtx } from './context.js';
import { taskEvent } from '../signals.js';

const CANCELLED: TaskError = { type: 'cancelled', message: 'cancelled by request' };
// $1 error, $2 now
const CANCEL_SET = `status = 'cancelled', error = $1, updated_at = $2, completed_at = $2`;
// $1 now
const RETRY_SET = `status = 'pending', attempts_base = t.attempts, run_at = $1, updated_at = $1, completed_at = NULL, claimed_by = NULL, claim_token = NULL,
  error = NULL, result = NULL, webhook_status = NULL, webhook_attempts = 0, webhook_attempts_base = 0, webhook_run_at = NULL, webhook_error = NULL, webhook_claimed_by = NULL`;

/** One task: `old` locks it and reads its status; `upd` changes it only from an allowed status. */
async function one(ctx: PgCtx, id: string, set: string, args: unknown[], allowed: TaskStatus[], name: string, to: TaskStatus, now: number): Promise<Transition> {
  const n = args.length + 1;
  const rows = await ctx.db.query<TaskRow & { previous: TaskStatus; changed: boolean }>(
    `WITH old AS (SELECT seq, status FROM tasks WHERE id = $${n} FOR UPDATE),
     upd AS (UPDATE tasks t SET ${set} FROM old WHERE t.seq = old.seq AND old.status IN (${allowed.map((s) => `'${s}'`).join(', ')}) RETURNING t.*)
     SELECT old.status AS previous, upd.seq IS NOT NULL AS changed, upd.* FROM old LEFT JOIN upd ON true`,
    [...args, id],
    name,
  );
  const r = rows[0];
  if (!r) return { ok: false, reason: 'not_found' };
  if (!r.changed) return { ok: false, reason: 'conflict' };
  ctx.signals.fire([taskEvent(r.id, r.queue, to, r.attempts, now)]);
  return { ok: true, task: toTask(r), previous: r.previous };
}

export function cancelTask(ctx: PgCtx, id: string, now: number): Promise<Transition> {
  return one(ctx, id, CANCEL_SET, [JSON.stringify(CANCELLED), now], ['pending', 'running'], 'aq_cancel_task', 'cancelled', now);
}

export function retryTask(ctx: PgCtx, id: string, now: number): Promise<Transition> {
  return one(ctx, id, RETRY_SET, [now], ['failed', 'cancelled'], 'aq_retry_task', 'pending', now);
}

export async function deleteTask(ctx: PgCtx, id: string, now: number): Promise<{ ok: true; previous: TaskStatus } | Refusal> {
  const rows = await ctx.db.query<{ status: TaskStatus; queue: string; attempts: number }>(
    `WITH old AS (DELETE FROM tasks WHERE id = $1 RETURNING seq, id, status, queue, attempts),
     a AS (DELETE FROM attempts WHERE task_id IN (SELECT id FROM old)),
     d AS (DELETE FROM deliveries WHERE task_id IN (SELECT id FROM old)),
     l AS (DELETE FROM task_labels WHERE seq IN (SELECT seq FROM old))
     SELECT status, queue, attempts FROM old`,
    [id],
    'aq_delete_task',
  );
  const r = rows[0];
  // A pending or running task is cancelled first (api.md §3): its running attempt is aborted by this event.
  if (r && (r.status === 'pending' || r.status === 'running')) ctx.signals.fire([taskEvent(id, r.queue, 'cancelled', r.attempts, now)]);
  return r ? { ok: true, previous: r.status } : { ok: false, reason: 'not_found' };
}

/** The WHERE clause for a bulk filter, its parameters numbered from `$first`. */
function filterWhere(f: RedeliverFilter, allowed: TaskStatus[], first: number): { sql: string; args: unknown[] } {
  const states = f.status ? allowed.filter((s) => s === f.status) : allowed;
  if (states.length === 0 || (f.ids && f.ids.length === 0)) return { sql: 'false', args: [] };
  const args: unknown[] = [];
  const p = (v: unknown) => (args.push(v), `$${first + args.length - 1}`);
  const where = [`status IN (${states.map((s) => `'${s}'`).join(', ')})`];
  if (f.ids) where.push(`id = ANY(${p(f.ids)}::text[])`);
  if (f.queue !== undefined) where.push(`queue = ${p(f.queue)}`);
  if (f.batch !== undefined) where.push(`batch_id = ${p(f.batch)}`);
  if (f.label !== undefined) where.push(`seq IN (SELECT seq FROM task_labels WHERE label = ${p(f.label)})`);
  if (f.createdBefore !== undefined) where.push(`created_at < ${p(Date.parse(f.createdBefore))}::bigint`);
  // 'sending' is a pending delivery in flight (the Task's webhook.status shows it as pending)
  if (f.webhookStatus !== undefined) {
    where.push(f.webhookStatus === 'pending' ? `webhook_status IN ('pending', 'sending')` : `webhook_status = '${f.webhookStatus === 'delivered' ? 'delivered' : 'failed'}'`);
  }
  return { sql: where.join(' AND '), args };
}

async function bulk(ctx: PgCtx, f: BulkFilter, allowed: TaskStatus[], set: string, setArgs: unknown[], to: TaskStatus, now: number): Promise<BulkResult> {
  const w = filterWhere(f, allowed, setArgs.length + 1);
  if (w.sql === 'false') return { count: 0, changed: [] };
  // The row locks re-check the filter (READ COMMITTED re-evaluates it on the newest row version),
  // so a task that left the allowed states meanwhile is not changed and not reported.
  const rows = await ctx.db.query<{ id: string; queue: string; attempts: number; previous: TaskStatus }>(
    `WITH old AS (SELECT seq, status FROM tasks WHERE ${w.sql} ORDER BY seq FOR UPDATE)
     UPDATE tasks t SET ${set} FROM old WHERE t.seq = old.seq RETURNING t.id, t.queue, t.attempts, old.status AS previous`,
    [...setArgs, ...w.args],
  );
  ctx.signals.fire(rows.map((r) => taskEvent(r.id, r.queue, to, r.attempts, now)));
  return { count: rows.length, changed: rows.map((r) => ({ id: r.id, queue: r.queue, attempts: r.attempts, previous: r.previous })) };
}

export function cancelMany(ctx: PgCtx, f: BulkFilter, now: number): Promise<BulkResult> {
  return bulk(ctx, f, ['pending', 'running'], CANCEL_SET, [JSON.stringify(CANCELLED), now], 'cancelled', now);
}

export function retryMany(ctx: PgCtx, f: BulkFilter, now: number): Promise<BulkResult> {
  return bulk(ctx, f, ['failed', 'cancelled'], RETRY_SET, [now], 'pending', now);
}

// api.md §16: the latest outcome again, due now, with a fresh webhookRetries. A delivery in
// flight ('sending') keeps going and gets the fresh retries; its id (<task id>.<outcome>) stays.
const REDELIVER_SET = `webhook_status = CASE t.webhook_status WHEN 'sending' THEN 'sending' ELSE 'pending' END,
  webhook_run_at = CASE t.webhook_status WHEN 'sending' THEN t.webhook_run_at ELSE $1 END, webhook_attempts_base = t.webhook_attempts`;
const REDELIVERABLE = `webhook_url IS NOT NULL AND outcomes > 0`;

export async function redeliverTask(ctx: PgCtx, id: string, now: number): Promise<RedeliverResult> {
  const rows = await ctx.db.query<TaskRow & { previous: TaskStatus; changed: boolean }>(
    `WITH old AS (SELECT seq, status FROM tasks WHERE id = $2 FOR UPDATE),
     upd AS (UPDATE tasks t SET ${REDELIVER_SET} FROM old WHERE t.seq = old.seq AND old.status IN ('completed', 'failed') AND t.${REDELIVERABLE}
       RETURNING t.*)
     SELECT old.status AS previous, upd.seq IS NOT NULL AS changed, upd.* FROM old LEFT JOIN upd ON true`,
    [now, id],
    'aq_redeliver_task',
  );
  const r = rows[0];
  if (!r) return { ok: false, reason: 'not_found' };
  if (!r.changed) return { ok: false, reason: 'conflict' };
  return { ok: true, task: toTask(r) };
}

/**
 * A batch's batch.done (api.md §13) again, in the same way: the body of its latest time done. A
 * delivery in flight keeps its claim (webhook_claimed_by) and gets the fresh retries.
 */
export async function redeliverBatch(ctx: PgCtx, id: string, now: number): Promise<BatchRedeliverResult> {
  const rows = await ctx.db.query<BatchRow & { changed: boolean }>(
    `WITH old AS (SELECT id FROM batches WHERE id = $2 FOR UPDATE),
     upd AS (UPDATE batches t SET ${REDELIVER_SET} FROM old WHERE t.id = old.id AND t.done_at IS NOT NULL AND t.${REDELIVERABLE}
       RETURNING t.*)
     SELECT upd.id IS NOT NULL AS changed, upd.* FROM old LEFT JOIN upd ON true`,
    [now, id],
    'aq_redeliver_batch',
  );
  const r = rows[0];
  if (!r) return { ok: false, reason: 'not_found' };
  if (!r.changed) return { ok: false, reason: 'conflict' };
  return { ok: true, batch: toBatch(r) };
}

export async function redeliverMany(ctx: PgCtx, f: RedeliverFilter, now: number): Promise<{ count: number }> {
  const w = filterWhere(f, ['completed', 'failed'], 2);
  if (w.sql === 'false') return { count: 0 };
  const rows = await ctx.db.query(
    `WITH old AS (SELECT seq FROM tasks WHERE ${w.sql} AND ${REDELIVERABLE} ORDER BY seq FOR UPDATE)
     UPDATE tasks t SET ${REDELIVER_SET} FROM old WHERE t.seq = old.seq RETURNING 1`,
    [now, ...w.args],
  );
  return { count: rows.length };
}
