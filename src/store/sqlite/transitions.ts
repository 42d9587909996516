// SQL for the caller's state changes: cancel, retry and delete, one task or many by filter.
// Each change is guarded by the states it may leave (api.md §2); refusals are results.
import type { BulkFilter, RedeliverFilter, TaskError, TaskStatus } from '../../shared/types.js';
import type { BatchRedeliverResult, BulkResult, ChangedTask, RedeliverResult, Refusal, Transition } from '../store.js';
import type { Ctx } from './context.js';
import { toBatch, toTask, type BatchRow, type TaskRow } from './rows.js';

const CANCELLED: TaskError = { type: 'cancelled', message: 'cancelled by request' };
const CANCEL_SET = `status = 'cancelled', error = ?, updated_at = ?, completed_at = ?`;
const RETRY_SET = `status = 'pending', attempts_base = attempts, run_at = ?, updated_at = ?, completed_at = NULL,
  error = NULL, result = NULL, webhook_status = NULL, webhook_attempts = 0, webhook_attempts_base = 0, webhook_run_at = NULL, webhook_error = NULL`;

/**
 * One guarded UPDATE per state the change may leave (`WHERE … AND status = ?`), so each row's
 * previous state is the one its statement matched: no read decides what is written.
 */
function guarded<R>(ctx: Ctx, from: readonly TaskStatus[], sql: (statusGuard: string) => string, args: (status: TaskStatus) => unknown[]): { row: R; previous: TaskStatus }[] {
  const out: { row: R; previous: TaskStatus }[] = [];
  for (const status of from) {
    for (const row of ctx.stmt(sql('status = ?')).all(...args(status)) as R[]) out.push({ row, previous: status });
  }
  return out;
}

/** After a refused change: does the task exist at all? */
function refusal(ctx: Ctx, id: string): Refusal {
  const exists = ctx.stmt('SELECT 1 FROM tasks WHERE id = ?').get(id) !== undefined;
  return { ok: false, reason: exists ? 'conflict' : 'not_found' };
}

function transition(ctx: Ctx, id: string, from: readonly TaskStatus[], to: TaskStatus, set: string, setArgs: unknown[], now: number): Transition {
  const [hit] = guarded<TaskRow>(ctx, from, (g) => `UPDATE tasks SET ${set} WHERE id = ? AND ${g} RETURNING *`, (st) => [...setArgs, id, st]);
  if (!hit) return refusal(ctx, id);
  ctx.move(hit.row.queue, hit.previous, to);
  ctx.signal(hit.row.id, hit.row.queue, to, hit.row.attempts, now);
  return { ok: true, task: toTask(hit.row), previous: hit.previous };
}

const CANCEL_FROM = ['pending', 'running'] as const;
const RETRY_FROM = ['failed', 'cancelled'] as const;

export function cancelTask(ctx: Ctx, id: string, now: number): Transition {
  return transition(ctx, id, CANCEL_FROM, 'cancelled', CANCEL_SET, [JSON.stringify(CANCELLED), now, now], now);
}

export function retryTask(ctx: Ctx, id: string, now: number): Transition {
  return transition(ctx, id, RETRY_FROM, 'pending', RETRY_SET, [now, now], now);
}

export function deleteTask(ctx: Ctx, id: string, now: number): { ok: true; previous: TaskStatus } | Refusal {
  // DELETE … RETURNING yields the row as it was: its state is the one counted out.
  const gone = ctx.stmt('DELETE FROM tasks WHERE id = ? RETURNING status, queue, attempts').get(id) as { status: TaskStatus; queue: string; attempts: number } | undefined;
  if (!gone) return { ok: false, reason: 'not_found' };
  ctx.stmt('DELETE FROM attempts WHERE task_id = ?').run(id);
  ctx.stmt('DELETE FROM deliveries WHERE task_id = ?').run(id);
  ctx.move(gone.queue, gone.status, null);
  // A pending or running task is cancelled first (api.md §3): its running attempt is aborted by this event.
  if (gone.status === 'pending' || gone.status === 'running') ctx.signal(id, gone.queue, 'cancelled', gone.attempts, now);
  return { ok: true, previous: gone.status };
}

/** The WHERE clause (with args) for a bulk filter, without its state; null when nothing can match. */
function filterWhere(f: RedeliverFilter): { sql: string; args: unknown[] } | null {
  const where: string[] = [];
  const args: unknown[] = [];
  if (f.ids) {
    if (f.ids.length === 0) return null;
    where.push(`id IN (SELECT value FROM json_each(?))`);
    args.push(JSON.stringify(f.ids));
  }
  if (f.queue !== undefined) (where.push('queue = ?'), args.push(f.queue));
  if (f.batch !== undefined) (where.push('batch_id = ?'), args.push(f.batch));
  if (f.label !== undefined) (where.push('seq IN (SELECT seq FROM task_labels WHERE label = ?)'), args.push(f.label));
  if (f.createdBefore !== undefined) (where.push('created_at < ?'), args.push(Date.parse(f.createdBefore)));
  // 'sending' is a pending delivery in flight (the Task's webhook.status shows it as pending)
  if (f.webhookStatus !== undefined) where.push(f.webhookStatus === 'pending' ? `webhook_status IN ('pending', 'sending')` : `webhook_status = '${f.webhookStatus === 'delivered' ? 'delivered' : 'failed'}'`);
  return { sql: where.map((w) => ' AND ' + w).join(''), args };
}

/** `allowed` are the states the action may leave; a filter's `status` narrows them. */
function bulk(ctx: Ctx, f: BulkFilter, allowed: readonly TaskStatus[], to: TaskStatus, set: string, setArgs: unknown[], now: number): BulkResult {
  const w = filterWhere(f);
  const from = f.status ? allowed.filter((s) => s === f.status) : allowed;
  if (!w || from.length === 0) return { count: 0, changed: [] };
  const hits = guarded<{ id: string; queue: string; attempts: number }>(
    ctx, from,
    (g) => `UPDATE tasks SET ${set} WHERE ${g}${w.sql} RETURNING id, queue, attempts`,
    (st) => [...setArgs, st, ...w.args],
  );
  const changed: ChangedTask[] = hits.map(({ row, previous }) => {
    ctx.move(row.queue, previous, to);
    ctx.signal(row.id, row.queue, to, row.attempts, now);
    return { id: row.id, queue: row.queue, attempts: row.attempts, previous };
  });
  return { count: changed.length, changed };
}

export function cancelMany(ctx: Ctx, f: BulkFilter, now: number): BulkResult {
  return bulk(ctx, f, ['pending', 'running'], 'cancelled', CANCEL_SET, [JSON.stringify(CANCELLED), now, now], now);
}

export function retryMany(ctx: Ctx, f: BulkFilter, now: number): BulkResult {
  return bulk(ctx, f, ['failed', 'cancelled'], 'pending', RETRY_SET, [now, now], now);
}

// api.md §16: the latest outcome again, due now, with a fresh webhookRetries. A delivery in
// flight ('sending') keeps going and gets the fresh retries; its id (<task id>.<outcome>) stays.
const REDELIVER_SET = `webhook_status = CASE webhook_status WHEN 'sending' THEN 'sending' ELSE 'pending' END,
  webhook_run_at = CASE webhook_status WHEN 'sending' THEN webhook_run_at ELSE ? END, webhook_attempts_base = webhook_attempts`;
const REDELIVERABLE = `status IN ('completed', 'failed') AND webhook_url IS NOT NULL AND outcomes > 0`;

export function redeliverTask(ctx: Ctx, id: string, now: number): RedeliverResult {
  const row = ctx.stmt(`UPDATE tasks SET ${REDELIVER_SET} WHERE id = ? AND ${REDELIVERABLE} RETURNING *`).get(now, id) as TaskRow | undefined;
  return row ? { ok: true, task: toTask(row) } : refusal(ctx, id);
}

// A batch's batch.done (api.md §13) again, in the same way: the body of its latest time done.
const BATCH_REDELIVERABLE = `done_at IS NOT NULL AND webhook_url IS NOT NULL AND outcomes > 0`;

export function redeliverBatch(ctx: Ctx, id: string, now: number): BatchRedeliverResult {
  const row = ctx.stmt(`UPDATE batches SET ${REDELIVER_SET} WHERE id = ? AND ${BATCH_REDELIVERABLE} RETURNING *`).get(now, id) as BatchRow | undefined;
  if (row) return { ok: true, batch: toBatch(row) };
  return { ok: false, reason: ctx.stmt('SELECT 1 FROM batches WHERE id = ?').get(id) ? 'conflict' : 'not_found' };
}

export function redeliverMany(ctx: Ctx, f: RedeliverFilter, now: number): { count: number } {
  const w = filterWhere(f);
  if (!w || (f.status !== undefined && f.status !== 'completed' && f.status !== 'failed')) return { count: 0 };
  const status = f.status ? ` AND status = '${f.status}'` : '';
  return { count: ctx.db.prepare(`UPDATE tasks SET ${REDELIVER_SET} WHERE ${REDELIVERABLE}${status}${w.sql}`).run(now, ...w.args).changes };
}
