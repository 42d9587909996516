// SQL for creating and reading tasks: insert with idempotency, get, list with cursors, attempts.
import type { NewTask } from '../../shared/defaults.js';
import { TASK_STATUSES, type Attempt, type Batch, type Delivery, type Task } from '../../shared/types.js';
import { InvalidCursorError, InvalidFilterError, PAYLOAD_SCAN_LIMIT, type CreateResult, type ListFilter, type NewBatch } from '../store.js';
import type { Ctx } from './context.js';
import { decodeCursor, encodeCursor, newTaskToTask, toAttempt, toBatch, toDelivery, toTask, type AttemptRow, type BatchRow, type DeliveryRow, type TaskRow } from './rows.js';

const INSERT = `INSERT INTO tasks (id, queue, status, target_url, method, headers, payload, webhook_url, webhook_retries,
  retries, timeout_ms, backoff, priority, idempotency_key, labels, run_at, created_at, updated_at, schedule_id, qstash,
  async_timeout_ms, async_heartbeat_ms, concurrency_key, batch_id, parent_id, chain)
  VALUES (?, ?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
  ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
  RETURNING seq`;


/**
 * Inserts tasks (inside the caller's transaction); an idempotency key seen before returns the
 * existing task. With `batch`, its row is inserted first and counts the tasks created.
 */
export function insertTasks(ctx: Ctx, tasks: NewTask[], batch?: NewBatch): CreateResult[] {
  const insert = ctx.stmt(INSERT);
  const out: CreateResult[] = [];
  if (batch) {
    ctx.stmt('INSERT INTO batches (id, webhook_url, labels, created_at) VALUES (?, ?, ?, ?)').run(batch.id, batch.webhookUrl, JSON.stringify(batch.labels), batch.createdAt);
  }
  for (const t of tasks) {
    ctx.ensureQueue(t.queue, t.createdAt);
    const row = insert.get(
      t.id, t.queue, t.targetUrl, t.method, JSON.stringify(t.headers), t.payloadJson, t.webhookUrl, t.webhookRetries,
      t.retries, t.timeoutMs, JSON.stringify(t.backoff), t.priority, t.idempotencyKey, JSON.stringify(t.labels),
      t.runAt, t.createdAt, t.createdAt, t.scheduleId, t.qstash ? JSON.stringify(t.qstash) : null,
      t.async?.timeoutMs ?? null, t.async?.heartbeatMs ?? null, t.concurrencyKey ?? null, t.batchId ?? null, t.parentId ?? null, t.chainJson ?? null,
    ) as { seq: number } | undefined;
    if (row) {
      for (const label of new Set(t.labels)) ctx.stmt('INSERT OR IGNORE INTO task_labels (label, seq) VALUES (?, ?)').run(label, row.seq);
      ctx.move(t.queue, null, 'pending');
      ctx.signal(t.id, t.queue, 'pending', 0, t.createdAt);
      out.push({ task: newTaskToTask(t, t.payload !== undefined ? t.payload : JSON.parse(t.payloadJson)), created: true });
    } else {
      const existing = ctx.stmt('SELECT * FROM tasks WHERE idempotency_key = ?').get(t.idempotencyKey) as TaskRow;
      out.push({ task: toTask(existing), created: false });
    }
  }
  if (batch) {
    // A batch whose every task was an idempotent repeat has no members: done at once, no webhook.
    const n = out.filter((r) => r.created).length;
    ctx.stmt('UPDATE batches SET total = total + ?, pending = pending + ?, done_at = CASE WHEN total + ? = 0 THEN created_at END WHERE id = ?').run(n, n, n, batch.id);
  }
  return out;
}

export function getBatch(ctx: Ctx, id: string): Batch | undefined {
  const row = ctx.stmt('SELECT * FROM batches WHERE id = ?').get(id) as BatchRow | undefined;
  return row && toBatch(row);
}

export function getTaskRow(ctx: Ctx, id: string): TaskRow | undefined {
  return ctx.stmt('SELECT * FROM tasks WHERE id = ?').get(id) as TaskRow | undefined;
}

/** Newest first; each page is one indexed query. Throws InvalidCursorError for a tampered cursor, InvalidFilterError for an unknown status. */
export function listTasks(ctx: Ctx, f: ListFilter): { tasks: Task[]; nextCursor: string | null } {
  let before = Number.MAX_SAFE_INTEGER;
  if (f.cursor !== undefined) {
    const seq = decodeCursor(f.cursor);
    if (seq === undefined) throw new InvalidCursorError('cursor is not valid');
    before = seq;
  }
  const seqCol = f.label ? 'l.seq' : 't.seq';
  const where: string[] = [`${seqCol} < ?`];
  const args: unknown[] = [before];
  if (f.label) (where.push('l.label = ?'), args.push(f.label));
  // The status is one of a fixed set, written literally so partial indexes can serve it.
  if (f.status) {
    if (!TASK_STATUSES.includes(f.status)) throw new InvalidFilterError('status', `unknown status ${JSON.stringify(f.status)}`);
    where.push(`t.status = '${f.status}'`);
  }
  if (f.queue) (where.push('t.queue = ?'), args.push(f.queue));
  if (f.scheduleId) (where.push('t.schedule_id = ?'), args.push(f.scheduleId));
  if (f.batchId) (where.push('t.batch_id = ?'), args.push(f.batchId));
  const from = f.label ? 'task_labels l CROSS JOIN tasks t ON t.seq = l.seq' : 'tasks t';
  const order = `${seqCol} DESC`;
  if (f.payloadField !== undefined && f.payloadValue !== undefined) return payloadSearch(ctx, f, `SELECT ${seqCol} AS s FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ${PAYLOAD_SCAN_LIMIT}`, args);
  const sql = `SELECT t.* FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${order} LIMIT ?`;
  const rows = ctx.stmt(sql).all(...args, f.limit + 1) as TaskRow[];
  const more = rows.length > f.limit;
  if (more) rows.pop();
  return { tasks: rows.map(toTask), nextCursor: more ? encodeCursor(rows[rows.length - 1]!.seq) : null };
}

/** `$."a"."b"` for the dot path `a.b` (segments checked by the API: [A-Za-z0-9_-]). */
export function jsonPath(field: string): string {
  return '$' + field.split('.').map((p) => `."${p.replace(/"/g, '')}"`).join('');
}

/** A payload search over the window `windowSql` selects (the newest PAYLOAD_SCAN_LIMIT matches of the other filters). */
function payloadSearch(ctx: Ctx, f: ListFilter, windowSql: string, args: unknown[]): { tasks: Task[]; nextCursor: string | null } {
  const rows = ctx.stmt(`SELECT t.* FROM tasks t WHERE t.seq IN (${windowSql}) AND CAST(json_extract(t.payload, ?) AS TEXT) = ?
    ORDER BY t.seq DESC LIMIT ?`).all(...args, jsonPath(f.payloadField!), f.payloadValue, f.limit + 1) as TaskRow[];
  if (rows.length > f.limit) {
    rows.pop();
    return { tasks: rows.map(toTask), nextCursor: encodeCursor(rows[rows.length - 1]!.seq) };
  }
  // Fewer matches than asked for: more may lie past the window, if the window was full.
  const w = ctx.stmt(`SELECT MIN(s) AS lo, COUNT(*) AS n FROM (${windowSql})`).get(...args) as { lo: number | null; n: number };
  return { tasks: rows.map(toTask), nextCursor: w.n === PAYLOAD_SCAN_LIMIT && w.lo !== null ? encodeCursor(w.lo) : null };
}

/** The attempts of a task, oldest first, with the one in flight (durationMs null) last. */
export function listAttempts(ctx: Ctx, id: string): Attempt[] | undefined {
  const task = ctx.stmt('SELECT status, attempts, updated_at FROM tasks WHERE id = ?').get(id) as
    | { status: string; attempts: number; updated_at: number }
    | undefined;
  if (!task) return undefined;
  const rows = ctx.stmt('SELECT * FROM attempts WHERE task_id = ? ORDER BY n').all(id) as AttemptRow[];
  const attempts = rows.map(toAttempt);
  if (task.status === 'running' && !rows.some((r) => r.n === task.attempts)) {
    attempts.push({ n: task.attempts, startedAt: new Date(task.updated_at).toISOString(), durationMs: null });
  }
  return attempts;
}

/**
 * Every webhook delivery attempt of a task (or, with `batches`, of a batch's `batch.done`: its
 * rows are keyed by the batch id), oldest first; undefined when there is no such task or batch.
 */
export function listDeliveries(ctx: Ctx, id: string, owner: 'tasks' | 'batches' = 'tasks'): Delivery[] | undefined {
  if (!ctx.stmt(`SELECT 1 FROM ${owner} WHERE id = ?`).get(id)) return undefined;
  const rows = ctx.stmt('SELECT outcome, attempt, started_at, duration_ms, status, error FROM deliveries WHERE task_id = ? ORDER BY outcome, attempt').all(id) as DeliveryRow[];
  return rows.map(toDelivery);
}
