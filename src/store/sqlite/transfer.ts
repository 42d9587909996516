// SQL for import (api.md §15): tasks inserted with their own ids and states, attempts kept,
// counts moved as for any write. A task whose id is already stored is skipped (import is
// idempotent), as is one whose idempotency key another task holds.
import type { ImportItem } from '../../shared/transfer.js';
import type { Ctx } from './context.js';
import { insertTasks } from './tasks.js';

const STATE = `UPDATE tasks SET status = ?, attempts = ?, updated_at = ?, completed_at = ?, result = ?, error = ?,
  webhook_status = ?, webhook_attempts = ?, webhook_run_at = ?, webhook_error = ?, outcomes = ? WHERE id = ?`;

export function importTasks(ctx: Ctx, items: ImportItem[], now: number): { imported: number; skipped: number } {
  const exists = ctx.stmt('SELECT 1 FROM tasks WHERE id = ?').pluck();
  const attempt = ctx.stmt('INSERT OR IGNORE INTO attempts (task_id, n, started_at, duration_ms, status, error) VALUES (?, ?, ?, ?, ?, ?)');
  let imported = 0;
  let skipped = 0;
  for (const it of items) {
    if (exists.get(it.task.id) !== undefined || !insertTasks(ctx, [it.task])[0]!.created) {
      skipped++;
      continue;
    }
    const s = it.state;
    const w = s.webhook;
    const terminal = s.status === 'completed' || s.status === 'failed';
    ctx.stmt(STATE).run(
      s.status, s.attempts, s.updatedAt, s.completedAt, s.resultJson, s.error ? JSON.stringify(s.error) : null,
      w ? w.status : null, w ? w.attempts : 0, w && w.status === 'pending' ? now : null, w?.error ? JSON.stringify(w.error) : null,
      terminal ? 1 : 0, it.task.id,
    );
    ctx.move(it.task.queue, 'pending', s.status);
    if (s.status !== 'pending') ctx.signal(it.task.id, it.task.queue, s.status, s.attempts, now);
    for (const a of it.attempts) attempt.run(it.task.id, a.n, a.startedAt, a.durationMs, a.status ?? null, a.error ? JSON.stringify(a.error) : null);
    imported++;
  }
  return { imported, skipped };
}
