// SQL for export and import on PostgreSQL (api.md §15), in one transaction: tasks inserted with
// their own ids, states, links and chain steps (counts follow by trigger), attempts kept; ids
// already stored are skipped, as is a task whose idempotency key another task holds. Batches
// are recreated as on SQLite (../batch-import.ts).
import type { ExportBatch, ImportItem } from '../../shared/transfer.js';
import { batchRowValues, exportBatchOf, placeholdersOf, restoreOf, type BatchImport } from '../batch-import.js';
import type { BatchRow } from '../sqlite/rows.js';
import type { ExportDetails } from '../store.js';
import type { PgCtx } from './context.js';
import type { Sql } from './pool.js';
import { insertTasks } from './tasks.js';
import { taskEvent } from '../signals.js';

const STATE = `UPDATE tasks SET status = $1, attempts = $2, updated_at = $3, completed_at = $4, result = $5, error = $6,
  webhook_status = $7, webhook_attempts = $8, webhook_run_at = $9, webhook_error = $10, outcomes = $11, next_task_id = $12 WHERE id = $13`;
const ATTEMPTS = `INSERT INTO attempts (task_id, n, started_at, duration_ms, status, error, retry_after_ms, accepted_at, ended, ended_at, heartbeat_at)
  SELECT $1, * FROM unnest($2::int[], $3::bigint[], $4::bigint[], $5::int[], $6::text[], $7::bigint[], $8::bigint[], $9::text[], $10::bigint[], $11::bigint[])
  ON CONFLICT DO NOTHING`;
const BATCH_ROW = `INSERT INTO batches (id, webhook_url, labels, created_at, total, pending, outcomes, last_done_at,
  done_total, done_completed, done_failed, done_cancelled, webhook_status, webhook_attempts, webhook_error)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) ON CONFLICT (id) DO NOTHING`;
const EXTRA_MEMBER = 'UPDATE batches SET total = total + 1, pending = pending + 1, done_at = NULL WHERE id = $1';
const RESTORE = `UPDATE batches SET outcomes = $1, done_at = $2, last_done_at = $3, done_total = $4, done_completed = $5, done_failed = $6,
  done_cancelled = $7, webhook_status = $8, webhook_attempts = $9, webhook_attempts_base = 0, webhook_error = $10, webhook_run_at = $11,
  webhook_claimed_by = NULL WHERE id = $12 AND done_at IS NOT NULL`;

export async function importTasks(ctx: PgCtx, items: ImportItem[], now: number): Promise<{ imported: number; skipped: number }> {
  const committed: (() => void)[] = [];
  const result = await ctx.db.tx(async (sql: Sql) => {
    const ids = items.map((i) => i.task.id);
    const present = new Set((await sql.query<{ id: string }>('SELECT id FROM tasks WHERE id = ANY($1::text[])', [ids])).map((r) => r.id));
    const batches = new Map<string, BatchImport>();
    /** The batch of a member about to be inserted, recreated from its snapshot if this store has none (undefined: no row, nothing counted). */
    const batchOf = async (it: ImportItem): Promise<BatchImport | undefined> => {
      const id = it.task.batchId;
      if (!id) return undefined;
      let b = batches.get(id);
      if (b) return b;
      if (it.batch) await sql.query(BATCH_ROW, batchRowValues(it.batch), 'aq_import_batch');
      // Not locked here (the batch triggers lock the row when members change): a member removed meanwhile lowers total and members alike.
      const [row] = await sql.query<{ total: number; outcomes: number }>('SELECT total, outcomes FROM batches WHERE id = $1', [id], 'aq_import_batch_row');
      if (!row) return undefined;
      const [m] = await sql.query<{ n: string }>('SELECT count(*) AS n FROM tasks WHERE batch_id = $1', [id], 'aq_import_batch_members');
      b = { snapshot: it.batch, placeholders: placeholdersOf(row.total, Number(m!.n)), outcomesBefore: Number(row.outcomes) };
      batches.set(id, b);
      return b;
    };
    let imported = 0;
    let skipped = 0;
    for (const it of items) {
      if (present.has(it.task.id)) {
        skipped++;
        continue;
      }
      present.add(it.task.id);
      const b = await batchOf(it);
      if (b && !b.snapshot && it.batch) b.snapshot = it.batch;
      const [r] = await insertTasks(ctx, sql, [it.task], (fn) => committed.push(fn));
      if (!r!.created) {
        skipped++;
        continue;
      }
      // The member takes one of the places its batch kept for members still to come, or is one more.
      if (b) {
        if (b.placeholders > 0) b.placeholders--;
        else await sql.query(EXTRA_MEMBER, [it.task.batchId], 'aq_import_batch_extra');
      }
      const s = it.state;
      const w = s.webhook;
      await sql.query(STATE, [
        s.status, s.attempts, s.updatedAt, s.completedAt, s.resultJson, s.error ? JSON.stringify(s.error) : null,
        w ? w.status : null, w ? w.attempts : 0, w && w.status === 'pending' ? now : null, w?.error ? JSON.stringify(w.error) : null,
        s.outcomes, s.nextTaskId, it.task.id,
      ], 'aq_import_state');
      if (it.attempts.length > 0) {
        const a = it.attempts;
        await sql.query(ATTEMPTS, [
          it.task.id, a.map((x) => x.n), a.map((x) => x.startedAt), a.map((x) => x.durationMs), a.map((x) => x.status ?? null),
          a.map((x) => (x.error ? JSON.stringify(x.error) : null)), a.map((x) => x.retryAfterMs ?? null), a.map((x) => x.async?.acceptedAt ?? null),
          a.map((x) => x.async?.ended ?? null), a.map((x) => x.async?.endedAt ?? null), a.map((x) => x.async?.heartbeatAt ?? null),
        ], 'aq_import_attempts');
      }
      if (s.status !== 'pending') committed.push(() => ctx.signals.fire([taskEvent(it.task.id, it.task.queue, s.status, s.attempts, now)]));
      imported++;
    }
    // A batch this import made done is as done as it was where it came from (its webhook sent once).
    for (const [id, b] of batches) {
      const [row] = await sql.query<{ outcomes: number }>('SELECT outcomes FROM batches WHERE id = $1', [id], 'aq_import_batch_outcomes');
      const restore = restoreOf(b, row!.outcomes, now);
      if (restore) await sql.query(RESTORE, [...restore, id], 'aq_import_batch_restore');
    }
    return { imported, skipped };
  });
  for (const fn of committed) fn();
  return result;
}

/** Chains, outcome counts and batches of exported tasks (one page of an export). */
export async function exportDetails(ctx: PgCtx, ids: string[]): Promise<ExportDetails> {
  const out: ExportDetails = { tasks: new Map(), batches: new Map<string, ExportBatch>() };
  if (ids.length === 0) return out;
  const rows = await ctx.db.query<{ id: string; chain: string | null; outcomes: number; batch_id: string | null }>(
    'SELECT id, chain, outcomes, batch_id FROM tasks WHERE id = ANY($1::text[])', [ids], 'aq_export_details');
  for (const r of rows) out.tasks.set(r.id, { chainJson: r.chain, outcomes: Number(r.outcomes) });
  const batchIds = [...new Set(rows.map((r) => r.batch_id).filter((b): b is string => b !== null))];
  if (batchIds.length > 0) {
    for (const row of await ctx.db.query<BatchRow>('SELECT * FROM batches WHERE id = ANY($1::text[])', [batchIds], 'aq_export_batches')) out.batches.set(row.id, exportBatchOf(row));
  }
  return out;
}
