// How an import recreates a batch (api.md §13, §15), the same on both stores. Every member's
// export line carries its batch as it was read. The first import call that meets a batch the
// store does not have inserts its row with the exported total, every member counted `pending`
// until it arrives ("places" kept for members still to come), so a batch whose members come in
// several calls is not done before the last of them. Each member inserted takes a place (or,
// with none left, e.g. one removed here since, is counted as one more), and the import's own
// status update moves it from `pending` to its state through the batch triggers, as any write.
// When a call makes the batch done it is restored as the export saw it done: its outcome count,
// done time and webhook state, so a `batch.done` already delivered is not sent again and one
// still pending is sent once. Pure: rows and snapshots in, SQL parameters out.
import type { ExportBatch, ImportBatch } from '../shared/transfer.js';
import { toBatch, type BatchRow } from './sqlite/rows.js';

/** A batch met in one import call. */
export interface BatchImport {
  /** The batch as exported (from the first line of the call that carries it). */
  snapshot?: ImportBatch;
  /** Members still to come: counted `pending` in the row, not stored yet. */
  placeholders: number;
  /** The row's outcome count before the call (a call that raises it made the batch done). */
  outcomesBefore: number;
}

/** Places left for members not yet imported: the row's total less its stored members. */
export function placeholdersOf(total: number, members: number): number {
  return Math.max(0, Number(total) - Number(members));
}

/**
 * The values of a new batch row (id, webhook_url, labels, created_at, total, pending, outcomes,
 * last_done_at, done_total, done_completed, done_failed, done_cancelled, webhook_status,
 * webhook_attempts, webhook_error): every member pending until imported; the webhook's state as
 * exported but not due (no run time) until the import makes the batch done.
 */
export function batchRowValues(b: ImportBatch): unknown[] {
  const w = b.webhook;
  return [
    b.id, b.webhookUrl, JSON.stringify(b.labels), b.createdAt, b.total, b.total, b.outcomes,
    b.done ? b.doneAt : null, b.done ? b.total : null, b.done ? b.counts.completed : null, b.done ? b.counts.failed : null, b.done ? b.counts.cancelled : null,
    w ? w.status : null, w ? w.attempts : 0, w?.error ? JSON.stringify(w.error) : null,
  ];
}

/**
 * For a batch the call made done whose export saw it done: the values of (outcomes, done_at,
 * last_done_at, done_total, done_completed, done_failed, done_cancelled, webhook_status,
 * webhook_attempts, webhook_error, webhook_run_at) that put it back as it was there; undefined
 * when the row stays as the triggers left it (not made done by this call, or done only here:
 * then its webhook fires as for any batch that becomes done).
 */
export function restoreOf(b: BatchImport, outcomesAfter: number, now: number): unknown[] | undefined {
  const s = b.snapshot;
  if (!s || !s.done || Number(outcomesAfter) <= Number(b.outcomesBefore)) return undefined;
  const w = s.webhook;
  return [
    s.outcomes, s.doneAt, s.doneAt, s.total, s.counts.completed, s.counts.failed, s.counts.cancelled,
    w ? w.status : null, w ? w.attempts : 0, w?.error ? JSON.stringify(w.error) : null, w && w.status === 'pending' ? now : null,
  ];
}

/** A batch row as an export line carries it. */
export function exportBatchOf(row: BatchRow): ExportBatch {
  return { ...toBatch(row), outcomes: Number(row.outcomes) };
}
