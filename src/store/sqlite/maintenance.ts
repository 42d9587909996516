// SQL for upkeep: retention purge in small batches, settings, and facts about the database.
import type { TaskStatus } from '../../shared/types.js';
import type { Ctx } from './context.js';

/** Terminal tasks (only they have completed_at) whose webhook is settled, oldest first. */
export const PURGE = `SELECT seq, id, queue, status FROM tasks INDEXED BY tasks_expiry WHERE completed_at < ?
  AND (webhook_status IS NULL OR webhook_status IN ('delivered', 'failed')) ORDER BY completed_at LIMIT ?`;

/** Deletes up to `limit` terminal tasks finished before `before` (ms), with their attempts and deliveries. */
export function purgeExpired(ctx: Ctx, before: number, limit: number): number {
  const rows = ctx.stmt(PURGE).all(before, limit) as { seq: number; id: string; queue: string; status: TaskStatus }[];
  // Guarded by the state counted out: a row that changed or went since the read is neither deleted nor counted.
  const delTask = ctx.stmt('DELETE FROM tasks WHERE seq = ? AND status = ?');
  const delAttempts = ctx.stmt('DELETE FROM attempts WHERE task_id = ?');
  const delDeliveries = ctx.stmt('DELETE FROM deliveries WHERE task_id = ?');
  let deleted = 0;
  for (const r of rows) {
    if (delTask.run(r.seq, r.status).changes === 0) continue;
    delAttempts.run(r.id);
    delDeliveries.run(r.id);
    ctx.move(r.queue, r.status, null);
    deleted++;
  }
  if (deleted > 0) ctx.stmt('DELETE FROM minute_stats WHERE minute < ?').run(Math.floor(before / 60000) - 60);
  // A batch whose every task has been purged goes too, once its webhook is settled (api.md §13).
  if (deleted > 0) {
    for (const b of ctx.stmt(`DELETE FROM batches WHERE total = 0 AND done_at < ? AND (webhook_status IS NULL OR webhook_status IN ('delivered', 'failed')) RETURNING id`).all(before) as { id: string }[]) {
      delDeliveries.run(b.id);
    }
  }
  return deleted;
}

export function getSetting(ctx: Ctx, key: string): string | undefined {
  return (ctx.stmt('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined)?.value;
}

export function setSetting(ctx: Ctx, key: string, value: string): void {
  ctx.stmt('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
}

/** Inserts `value` unless `key` exists; returns the stored value. */
export function initSetting(ctx: Ctx, key: string, value: string): string {
  ctx.stmt('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING').run(key, value);
  return getSetting(ctx, key) ?? value;
}

/** Records that session `id` ended (logout) until `expiresAt` (ms); drops records already past `now`. */
export function revokeSession(ctx: Ctx, id: string, expiresAt: number, now: number): void {
  ctx.stmt('DELETE FROM revoked_sessions WHERE expires_at <= ?').run(now);
  ctx.stmt('INSERT INTO revoked_sessions (id, expires_at) VALUES (?, ?) ON CONFLICT(id) DO NOTHING').run(id, expiresAt);
}

export function isSessionRevoked(ctx: Ctx, id: string): boolean {
  return ctx.stmt('SELECT 1 FROM revoked_sessions WHERE id = ?').get(id) !== undefined;
}
