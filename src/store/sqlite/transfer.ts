// SQL for export and import (api.md §15): tasks inserted with their own ids, states, links and
// chain steps, attempts kept, counts moved as for any write. A task whose id is already stored
// is skipped (import is idempotent), as is one whose idempotency key another task holds.
// Batches (api.md §13) are recreated from the snapshot each member's line carries; see
// importBatches in ../batch-import.ts for the rules both stores follow.
import type { ExportBatch, ImportItem } from '../../shared/transfer.js';
import { batchRowValues, exportBatchOf, placeholdersOf, restoreOf, type BatchImport } from '../batch-import.js';
import type { ExportDetails } from '../store.js';
import type { Ctx } from './context.js';
import type { BatchRow } from './rows.js';
import { insertTasks } from './tasks.js';

const STATE = `UPDATE tasks SET status = ?, attempts = ?, updated_at = ?, completed_at = ?, result = ?, error = ?,
  webhook_status = ?, webhook_attempts = ?, webhook_run_at = ?, webhook_error = ?, outcomes = ?, next_task_id = ? WHERE id = ?`;
const ATTEMPT = `INSERT OR IGNORE INTO attempts (task_id, n, started_at, duration_ms, status, error, retry_after_ms, accepted_at, ended, ended_at, heartbeat_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const BATCH_ROW = `INSERT INTO batches (id, webhook_url, labels, created_at, total, pending, outcomes, last_done_at,
  done_total, done_completed, done_failed, done_cancelled, webhook_status, webhook_attempts, webhook_error)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`;
const EXTRA_MEMBER = 'UPDATE batches SET total = total + 1, pending = pending + 1, done_at = NULL WHERE id = ?';
const RESTORE = `UPDATE batches SET outcomes = ?, done_at = ?, last_done_at = ?, done_total = ?, done_completed = ?, done_failed = ?,
  done_cancelled = ?, webhook_status = ?, webhook_attempts = ?, webhook_attempts_base = 0, webhook_error = ?, webhook_run_at = ?
  WHERE id = ? AND done_at IS NOT NULL`;

export function importTasks(ctx: Ctx, items: ImportItem[], now: number): { imported: number; skipped: number } {
  const exists = ctx.stmt('SELECT 1 FROM tasks WHERE id = ?').pluck();
  const attempt = ctx.stmt(ATTEMPT);
  const batches = new Map<string, BatchImport>();
  /** The batch of a member about to be inserted, recreated from its snapshot if this store has none (undefined: no row, nothing counted). */
  const batchOf = (it: ImportItem): BatchImport | undefined => {
    const id = it.task.batchId;
    if (!id) return undefined;
    let b = batches.get(id);
    if (b) return b;
    if (it.batch) ctx.stmt(BATCH_ROW).run(...batchRowValues(it.batch));
    const row = ctx.stmt('SELECT total, outcomes FROM batches WHERE id = ?').get(id) as { total: number; outcomes: number } | undefined;
    if (!row) return undefined;
    const members = ctx.stmt('SELECT count(*) FROM tasks WHERE batch_id = ?').pluck().get(id) as number;
    b = { snapshot: it.batch, placeholders: placeholdersOf(row.total, members), outcomesBefore: row.outcomes };
    batches.set(id, b);
    return b;
  };
  let imported = 0;
  let skipped = 0;
  for (const it of items) {
    if (exists.get(it.task.id) !== undefined) {
      skipped++;
      continue;
    }
    const b = batchOf(it);
    if (b && !b.snapshot && it.batch) b.snapshot = it.batch;
    if (!insertTasks(ctx, [it.task])[0]!.created) {
      skipped++;
      continue;
    }
    // The member takes one of the places its batch kept for members still to come, or is one more.
    if (b) {
      if (b.placeholders > 0) b.placeholders--;
      else ctx.stmt(EXTRA_MEMBER).run(it.task.batchId);
    }
    const s = it.state;
    const w = s.webhook;
    ctx.stmt(STATE).run(
      s.status, s.attempts, s.updatedAt, s.completedAt, s.resultJson, s.error ? JSON.stringify(s.error) : null,
      w ? w.status : null, w ? w.attempts : 0, w && w.status === 'pending' ? now : null, w?.error ? JSON.stringify(w.error) : null,
      s.outcomes, s.nextTaskId, it.task.id,
    );
    ctx.move(it.task.queue, 'pending', s.status);
    if (s.status !== 'pending') ctx.signal(it.task.id, it.task.queue, s.status, s.attempts, now);
    for (const a of it.attempts) {
      attempt.run(
        it.task.id, a.n, a.startedAt, a.durationMs, a.status ?? null, a.error ? JSON.stringify(a.error) : null, a.retryAfterMs ?? null,
        a.async?.acceptedAt ?? null, a.async?.ended ?? null, a.async?.endedAt ?? null, a.async?.heartbeatAt ?? null,
      );
    }
    imported++;
  }
  // A batch this import made done is as done as it was where it came from (its webhook sent once).
  for (const [id, b] of batches) {
    const row = ctx.stmt('SELECT outcomes FROM batches WHERE id = ?').get(id) as { outcomes: number };
    const restore = restoreOf(b, row.outcomes, now);
    if (restore) ctx.stmt(RESTORE).run(...restore, id);
  }
  return { imported, skipped };
}

/** Chains, outcome counts and batches of exported tasks (one page of an export). */
export function exportDetails(ctx: Ctx, ids: string[]): ExportDetails {
  const task = ctx.stmt('SELECT chain, outcomes, batch_id FROM tasks WHERE id = ?');
  const batch = ctx.stmt('SELECT * FROM batches WHERE id = ?');
  const out: ExportDetails = { tasks: new Map(), batches: new Map<string, ExportBatch>() };
  for (const id of ids) {
    const r = task.get(id) as { chain: string | null; outcomes: number; batch_id: string | null } | undefined;
    if (!r) continue;
    out.tasks.set(id, { chainJson: r.chain, outcomes: r.outcomes });
    if (r.batch_id !== null && !out.batches.has(r.batch_id)) {
      const row = batch.get(r.batch_id) as BatchRow | undefined;
      if (row) out.batches.set(r.batch_id, exportBatchOf(row));
    }
  }
  return out;
}
