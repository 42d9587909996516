// SQL for the caller's state changes: cancel, retry and delete, one task or many by filter.
// Each change is guarded by the states it may leave (api.md §2); refusals are results.
import type { BulkFilter, TaskError, TaskStatus } from '../../shared/types.js';
import type { BulkResult, ChangedTask, Refusal, Transition } from '../store.js';
import type { Ctx } from './context.js';
import { toTask, type TaskRow } from './rows.js';

const CANCELLED: TaskError = { type: 'cancelled', message: 'cancelled by request' };
const CANCEL_SET = `status = 'cancelled', error = ?, updated_at = ?, completed_at = ?`;
const RETRY_SET = `status = 'pending', attempts_base = attempts, run_at = ?, updated_at = ?, completed_at = NULL,
  error = NULL, result = NULL, webhook_status = NULL, webhook_attempts = 0, webhook_run_at = NULL, webhook_error = NULL`;

function current(ctx: Ctx, id: string): { status: TaskStatus; queue: string } | undefined {
  return ctx.stmt('SELECT status, queue FROM tasks WHERE id = ?').get(id) as { status: TaskStatus; queue: string } | undefined;
}

export function cancelTask(ctx: Ctx, id: string, now: number): Transition {
  const before = current(ctx, id);
  if (!before) return { ok: false, reason: 'not_found' };
  if (before.status !== 'pending' && before.status !== 'running') return { ok: false, reason: 'conflict' };
  const row = ctx.stmt(`UPDATE tasks SET ${CANCEL_SET} WHERE id = ? RETURNING *`).get(JSON.stringify(CANCELLED), now, now, id) as TaskRow;
  ctx.move(before.queue, before.status, 'cancelled');
  return { ok: true, task: toTask(row), previous: before.status };
}

export function retryTask(ctx: Ctx, id: string, now: number): Transition {
  const before = current(ctx, id);
  if (!before) return { ok: false, reason: 'not_found' };
  if (before.status !== 'failed' && before.status !== 'cancelled') return { ok: false, reason: 'conflict' };
  const row = ctx.stmt(`UPDATE tasks SET ${RETRY_SET} WHERE id = ? RETURNING *`).get(now, now, id) as TaskRow;
  ctx.move(before.queue, before.status, 'pending');
  return { ok: true, task: toTask(row), previous: before.status };
}

export function deleteTask(ctx: Ctx, id: string): { ok: true; previous: TaskStatus } | Refusal {
  const before = current(ctx, id);
  if (!before) return { ok: false, reason: 'not_found' };
  ctx.stmt('DELETE FROM tasks WHERE id = ?').run(id);
  ctx.stmt('DELETE FROM attempts WHERE task_id = ?').run(id);
  ctx.move(before.queue, before.status, null);
  return { ok: true, previous: before.status };
}

/** The WHERE clause (with args) for a bulk filter; `allowed` are the states the action may leave. */
function filterWhere(f: BulkFilter, allowed: TaskStatus[]): { sql: string; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  const states = f.status ? allowed.filter((s) => s === f.status) : allowed;
  if (states.length === 0) return { sql: '0', args: [] };
  where.push(`status IN (${states.map(() => '?').join(', ')})`);
  args.push(...states);
  if (f.ids) {
    if (f.ids.length === 0) return { sql: '0', args: [] };
    where.push(`id IN (SELECT value FROM json_each(?))`);
    args.push(JSON.stringify(f.ids));
  }
  if (f.queue !== undefined) (where.push('queue = ?'), args.push(f.queue));
  if (f.label !== undefined) (where.push('seq IN (SELECT seq FROM task_labels WHERE label = ?)'), args.push(f.label));
  if (f.createdBefore !== undefined) (where.push('created_at < ?'), args.push(Date.parse(f.createdBefore)));
  return { sql: where.join(' AND '), args };
}

function bulk(ctx: Ctx, f: BulkFilter, allowed: TaskStatus[], to: TaskStatus, set: string, setArgs: unknown[]): BulkResult {
  const w = filterWhere(f, allowed);
  const changed: ChangedTask[] = [];
  const rows = ctx.db.prepare(`SELECT id, queue, attempts, status FROM tasks WHERE ${w.sql}`).all(...w.args) as {
    id: string; queue: string; attempts: number; status: TaskStatus;
  }[];
  if (rows.length === 0) return { count: 0, changed };
  ctx.db.prepare(`UPDATE tasks SET ${set} WHERE ${w.sql}`).run(...setArgs, ...w.args);
  for (const r of rows) {
    changed.push({ id: r.id, queue: r.queue, attempts: r.attempts, previous: r.status });
    ctx.move(r.queue, r.status, to);
  }
  return { count: rows.length, changed };
}

export function cancelMany(ctx: Ctx, f: BulkFilter, now: number): BulkResult {
  return bulk(ctx, f, ['pending', 'running'], 'cancelled', CANCEL_SET, [JSON.stringify(CANCELLED), now, now]);
}

export function retryMany(ctx: Ctx, f: BulkFilter, now: number): BulkResult {
  return bulk(ctx, f, ['failed', 'cancelled'], 'pending', RETRY_SET, [now, now]);
}
