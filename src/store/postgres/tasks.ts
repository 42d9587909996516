// SQL for creating and reading tasks on PostgreSQL: one statement inserts a whole batch
// (unnest) with its labels and any new queue rows; idempotency keys seen before return the
// existing task. Reads: get, list with cursors, attempts.
import type { NewTask } from '../../shared/defaults.js';
import { TASK_STATUSES, type Attempt, type Batch, type Delivery, type Task } from '../../shared/types.js';
import { InvalidCursorError, InvalidFilterError, PAYLOAD_SCAN_LIMIT, type CreateResult, type ListFilter, type NewBatch } from '../store.js';
import { decodeCursor, encodeCursor, newTaskToTask, toAttempt, toBatch, toDelivery, toTask, type AttemptRow, type BatchRow, type DeliveryRow, type TaskRow } from '../sqlite/rows.js';
import type { PgCtx } from './context.js';
import type { Sql } from './pool.js';
import { taskEvent } from '../signals.js';

const COLUMNS = `id, queue, target_url, method, headers, payload, webhook_url, webhook_retries, retries, timeout_ms, backoff,
  priority, idempotency_key, labels, run_at, created_at, schedule_id, qstash, async_timeout_ms, async_heartbeat_ms, concurrency_key, batch_id, parent_id, chain`;

const INSERT = `WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::int[], $9::int[],
      $10::int[], $11::text[], $12::int[], $13::text[], $14::text[], $15::bigint[], $16::bigint[], $17::text[], $18::text[],
      $20::bigint[], $21::bigint[], $22::text[], $23::text[], $24::text[], $25::text[]) WITH ORDINALITY
      AS i(${COLUMNS}, ord)
  ),
  new_queues AS (
    INSERT INTO queues (name, created_at) SELECT queue, min(created_at) FROM input WHERE queue = ANY($19::text[]) GROUP BY queue ORDER BY queue
    ON CONFLICT (name) DO NOTHING
  ),
  ins AS (
    INSERT INTO tasks (${COLUMNS}, status, updated_at)
    SELECT ${COLUMNS}, 'pending', created_at FROM input ORDER BY ord
    ON CONFLICT (idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING seq, id, labels
  ),
  labelled AS (
    INSERT INTO task_labels (label, seq)
    SELECT DISTINCT l.label, ins.seq FROM ins CROSS JOIN LATERAL jsonb_array_elements_text(ins.labels::jsonb) AS l(label)
    WHERE ins.labels <> '[]'
    ON CONFLICT DO NOTHING
  )
  SELECT id FROM ins`;

/**
 * Inserts tasks in one statement (or inside the caller's transaction, whose commit then calls
 * `afterCommit`); existing idempotency keys return their task.
 */
export async function insertTasks(ctx: PgCtx, sql: Sql, tasks: NewTask[], afterCommit?: (fn: () => void) => void): Promise<CreateResult[]> {
  if (tasks.length === 0) return [];
  if (afterCommit) return insertRows(ctx, sql, tasks, afterCommit);
  // One statement, its own commit: the tasks' events wait for their `pending` (StoreSignals.hold).
  const ids = tasks.map((t) => t.id);
  ctx.signals.hold(ids);
  try {
    return await insertRows(ctx, sql, tasks, (fn) => fn());
  } finally {
    ctx.signals.release(ids);
  }
}

async function insertRows(ctx: PgCtx, sql: Sql, tasks: NewTask[], afterCommit: (fn: () => void) => void): Promise<CreateResult[]> {
  const cols: unknown[][] = Array.from({ length: 24 }, () => new Array(tasks.length));
  tasks.forEach((t, i) => {
    const v = [
      t.id, t.queue, t.targetUrl, t.method, JSON.stringify(t.headers), t.payloadJson, t.webhookUrl, t.webhookRetries, t.retries,
      t.timeoutMs, JSON.stringify(t.backoff), t.priority, t.idempotencyKey, JSON.stringify(t.labels), t.runAt, t.createdAt, t.scheduleId,
      t.qstash ? JSON.stringify(t.qstash) : null, t.async?.timeoutMs ?? null, t.async?.heartbeatMs ?? null, t.concurrencyKey ?? null,
      t.batchId ?? null, t.parentId ?? null, t.chainJson ?? null,
    ];
    for (let c = 0; c < 24; c++) cols[c]![i] = v[c];
  });
  const newQueues = [...new Set(tasks.map((t) => t.queue))].filter((q) => !ctx.knownQueues.has(q));
  // $19 is the new queues; the async columns, the concurrency key, the batch and the chain follow it ($20–$25).
  const rows = await sql.query<{ id: string }>(INSERT, [...cols.slice(0, 18), newQueues, ...cols.slice(18)], 'aq_insert_tasks');
  // Known only once committed: a queue first seen in a rolled-back write is inserted again later.
  afterCommit(() => {
    for (const q of newQueues) ctx.knownQueues.add(q);
  });
  const created = new Set(rows.map((r) => r.id));
  if (created.size > 0) {
    const events = tasks.filter((t) => created.has(t.id)).map((t) => taskEvent(t.id, t.queue, 'pending', 0, t.createdAt));
    afterCommit(() => ctx.signals.created(events));
  }
  let existing: Map<string, Task> | undefined;
  const missing = tasks.filter((t) => !created.has(t.id)).map((t) => t.idempotencyKey!);
  if (missing.length > 0) {
    const found = await sql.query<TaskRow>('SELECT * FROM tasks WHERE idempotency_key = ANY($1::text[])', [missing]);
    existing = new Map(found.map((r) => [r.idempotency_key!, toTask(r)]));
  }
  return tasks.map((t) =>
    created.has(t.id)
      ? { task: newTaskToTask(t, t.payload !== undefined ? t.payload : JSON.parse(t.payloadJson)), created: true }
      : { task: existing!.get(t.idempotencyKey!)!, created: false },
  );
}

/**
 * A batch's tasks in one transaction with its row (api.md §13): the row first, the tasks, then
 * the row counts the tasks created (an idempotent repeat is not a member).
 */
export async function insertBatch(ctx: PgCtx, sql: Sql, batch: NewBatch, tasks: NewTask[], afterCommit: (fn: () => void) => void): Promise<CreateResult[]> {
  await sql.query('INSERT INTO batches (id, webhook_url, labels, created_at) VALUES ($1, $2, $3, $4)', [batch.id, batch.webhookUrl, JSON.stringify(batch.labels), batch.createdAt], 'aq_insert_batch');
  const results = await insertTasks(ctx, sql, tasks, afterCommit);
  const n = results.filter((r) => r.created).length;
  await sql.query(
    'UPDATE batches SET total = total + $2, pending = pending + $2, done_at = CASE WHEN total + $2 = 0 THEN created_at END WHERE id = $1',
    [batch.id, n],
    'aq_count_batch',
  );
  return results;
}

export async function getBatch(ctx: PgCtx, id: string): Promise<Batch | undefined> {
  const [row] = await ctx.db.query<BatchRow>('SELECT * FROM batches WHERE id = $1', [id], 'aq_get_batch');
  return row && toBatch(row);
}

export async function getTask(ctx: PgCtx, id: string): Promise<Task | undefined> {
  const [row] = await ctx.db.query<TaskRow>('SELECT * FROM tasks WHERE id = $1', [id], 'aq_get_task');
  return row && toTask(row);
}

/** Newest first; each page is one indexed query. Throws InvalidCursorError for a tampered cursor, InvalidFilterError for an unknown status. */
export async function listTasks(ctx: PgCtx, f: ListFilter): Promise<{ tasks: Task[]; nextCursor: string | null }> {
  let before = Number.MAX_SAFE_INTEGER;
  if (f.cursor !== undefined) {
    const seq = decodeCursor(f.cursor);
    if (seq === undefined) throw new InvalidCursorError('cursor is not valid');
    before = seq;
  }
  const seqCol = f.label ? 'l.seq' : 't.seq';
  const args: unknown[] = [before];
  const where: string[] = [`${seqCol} < $1`];
  if (f.label) {
    args.push(f.label);
    where.push(`l.label = $${args.length}`);
  }
  // The status is one of a fixed set, written literally so partial indexes can serve it.
  if (f.status) {
    if (!TASK_STATUSES.includes(f.status)) throw new InvalidFilterError('status', `unknown status ${JSON.stringify(f.status)}`);
    where.push(`t.status = '${f.status}'`);
  }
  if (f.queue) {
    args.push(f.queue);
    where.push(`t.queue = $${args.length}`);
  }
  if (f.scheduleId) {
    args.push(f.scheduleId);
    where.push(`t.schedule_id = $${args.length}`);
  }
  if (f.batchId) {
    args.push(f.batchId);
    where.push(`t.batch_id = $${args.length}`);
  }
  const from = f.label ? 'task_labels l JOIN tasks t ON t.seq = l.seq' : 'tasks t';
  if (f.payloadField !== undefined && f.payloadValue !== undefined) {
    return payloadSearch(ctx, f, `SELECT ${seqCol} AS s FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${seqCol} DESC LIMIT ${PAYLOAD_SCAN_LIMIT}`, args);
  }
  args.push(f.limit + 1);
  const rows = await ctx.db.query<TaskRow>(`SELECT t.* FROM ${from} WHERE ${where.join(' AND ')} ORDER BY ${seqCol} DESC LIMIT $${args.length}`, args);
  const more = rows.length > f.limit;
  if (more) rows.pop();
  return { tasks: rows.map(toTask), nextCursor: more ? encodeCursor(rows[rows.length - 1]!.seq) : null };
}

/** A payload search over the window `windowSql` selects (the newest PAYLOAD_SCAN_LIMIT matches of the other filters), as on SQLite. */
async function payloadSearch(ctx: PgCtx, f: ListFilter, windowSql: string, args: unknown[]): Promise<{ tasks: Task[]; nextCursor: string | null }> {
  const n = args.length;
  const rows = await ctx.db.query<TaskRow>(
    `SELECT t.* FROM tasks t WHERE t.seq IN (${windowSql}) AND (t.payload::jsonb #>> $${n + 1}::text[]) = $${n + 2} ORDER BY t.seq DESC LIMIT $${n + 3}`,
    [...args, f.payloadField!.split('.'), f.payloadValue, f.limit + 1],
  );
  if (rows.length > f.limit) {
    rows.pop();
    return { tasks: rows.map(toTask), nextCursor: encodeCursor(rows[rows.length - 1]!.seq) };
  }
  // Fewer matches than asked for: more may lie past the window, if the window was full.
  const [w] = await ctx.db.query<{ lo: string | null; n: string }>(`SELECT MIN(s) AS lo, COUNT(*) AS n FROM (${windowSql}) w`, args);
  return { tasks: rows.map(toTask), nextCursor: Number(w!.n) === PAYLOAD_SCAN_LIMIT && w!.lo !== null ? encodeCursor(Number(w!.lo)) : null };
}

/** The attempts of a task, oldest first, with the one in flight (durationMs null) last. */
export async function listAttempts(ctx: PgCtx, id: string): Promise<Attempt[] | undefined> {
  const rows = await ctx.db.query<AttemptRow & { t_status: string; t_attempts: number; t_updated_at: number }>(
    `SELECT t.status AS t_status, t.attempts AS t_attempts, t.updated_at AS t_updated_at, a.n, a.started_at, a.duration_ms, a.status, a.error,
       a.retry_after_ms, a.accepted_at, a.ended, a.ended_at, a.heartbeat_at
     FROM tasks t LEFT JOIN attempts a ON a.task_id = t.id WHERE t.id = $1 ORDER BY a.n`,
    [id],
    'aq_list_attempts',
  );
  if (rows.length === 0) return undefined;
  const task = rows[0]!;
  const real = rows.filter((r) => r.n !== null);
  const attempts = real.map(toAttempt);
  if (task.t_status === 'running' && !real.some((r) => r.n === task.t_attempts)) {
    attempts.push({ n: task.t_attempts, startedAt: new Date(task.t_updated_at).toISOString(), durationMs: null });
  }
  return attempts;
}

/**
 * Every webhook delivery attempt of a task (or, with `batches`, of a batch's `batch.done`: its
 * rows are keyed by the batch id), oldest first; undefined when there is no such task or batch.
 */
export async function listDeliveries(ctx: PgCtx, id: string, owner: 'tasks' | 'batches' = 'tasks'): Promise<Delivery[] | undefined> {
  const rows = await ctx.db.query<DeliveryRow & { present: boolean }>(
    `SELECT true AS present, d.outcome, d.attempt, d.started_at, d.duration_ms, d.status, d.error
     FROM ${owner} t LEFT JOIN deliveries d ON d.task_id = t.id WHERE t.id = $1 ORDER BY d.outcome, d.attempt`,
    [id],
    owner === 'tasks' ? 'aq_list_deliveries' : 'aq_list_batch_deliveries',
  );
  if (rows.length === 0) return undefined;
  return rows.filter((r) => r.outcome !== null).map(toDelivery);
}
