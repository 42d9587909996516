// SQL for the dispatcher: claim due tasks, record attempts and their decisions, webhook
// deliveries (an outbox in the tasks row), and recovery of work interrupted by a crash.
// Every write is guarded in its WHERE so a late answer cannot overwrite a cancel.
import type { TaskError } from '../../shared/types.js';
import type { AttemptFinish, ClaimedDelivery, ClaimedTask, DeliveryFinish } from '../store.js';
import type { Ctx } from './context.js';
import { pickKeyed } from './keys.js';
import { insertTasks } from './tasks.js';
import type { NewTask } from '../../shared/defaults.js';
import { isBatchId } from '../../shared/ids.js';
import { followUpOf } from '../chain.js';
import { batchDelivery, type BatchRow } from './rows.js';

const COLUMNS = `seq, id, queue, target_url, method, headers, payload, timeout_ms, retries, backoff, attempts, attempts_base, priority, run_at,
    webhook_url IS NOT NULL AS has_webhook, created_at, schedule_id, qstash, async_timeout_ms, async_heartbeat_ms,
    batch_id, chain IS NOT NULL AS has_chain`;
// Claims read the due rows, then start each by its seq. One `UPDATE … WHERE seq IN (SELECT …)
// RETURNING …` did the same, but SQLite prepared it anew on every run (≈ 30–80 µs on an empty
// table). `LIMIT ? + 0`: with a bare `LIMIT ?` SQLite plans with the bound value and prepares the
// statement again whenever the limit changes.
// The due rows are read one priority at a time, highest first, each level a range of tasks_due
// (queue, priority, run_at ≤ now), and the next lower level is one seek in the same index: a
// claim reads what it takes plus one probe per priority level, however many tasks wait. One
// query with `ORDER BY priority DESC, run_at` let SQLite pick the (queue, run_at) index and sort
// every due row of the queue for each claim: 10 ms per claim of 6 behind 18,000 due tasks.
export const PICK_LEVEL = `SELECT ${COLUMNS} FROM tasks INDEXED BY tasks_due
  WHERE status = 'pending' AND queue = ? AND priority = ? AND run_at <= ? ORDER BY run_at LIMIT ? + 0`;
export const TOP_LEVEL = `SELECT priority FROM tasks INDEXED BY tasks_due WHERE status = 'pending' AND queue = ?
  ORDER BY priority DESC LIMIT 1`;
export const LOWER_LEVEL = `SELECT priority FROM tasks INDEXED BY tasks_due WHERE status = 'pending' AND queue = ? AND priority < ?
  ORDER BY priority DESC LIMIT 1`;
// A keyed queue's picks (keys.ts), given as a JSON array of seqs.
const PICK_SEQS = `SELECT ${COLUMNS} FROM tasks WHERE seq IN (SELECT value FROM json_each(?)) AND status = 'pending'`;
const START = `UPDATE tasks SET status = 'running', attempts = attempts + 1, updated_at = ?,
    awaiting_since = NULL, awaiting_deadline = NULL, awaiting_heartbeat_at = NULL
  WHERE seq = ? AND status = 'pending'`;

interface ClaimRow {
  seq: number; id: string; queue: string; target_url: string; method: ClaimedTask['method']; headers: string; payload: string;
  timeout_ms: number; retries: number; backoff: string; attempts: number; attempts_base: number; priority: number; run_at: number;
  has_webhook: number; created_at: number; schedule_id: string | null; qstash: string | null;
  async_timeout_ms: number | null; async_heartbeat_ms: number | null; batch_id: string | null; has_chain: number;
}

/** Up to `limit` due tasks of `queue`, by priority (highest first), then run_at (see PICK_LEVEL). */
function pickDue(ctx: Ctx, queue: string, limit: number, now: number): ClaimRow[] {
  const level = ctx.stmt(PICK_LEVEL);
  const lower = ctx.stmt(LOWER_LEVEL).pluck();
  let priority = ctx.stmt(TOP_LEVEL).pluck().get(queue) as number | undefined;
  let out: ClaimRow[] = [];
  while (priority !== undefined) {
    const rows = level.all(queue, priority, now, limit - out.length) as ClaimRow[];
    out = out.length === 0 ? rows : out.concat(rows);
    if (out.length >= limit) break;
    priority = lower.get(queue, priority) as number | undefined;
  }
  return out;
}

/** Claims up to `perQueue[q]` due tasks of each queue; a queue with keyConcurrency (in `keyed`) by turns between its keys. */
export function claimTasks(ctx: Ctx, perQueue: Map<string, number>, now: number, keyed: ReadonlyMap<string, number>): ClaimedTask[] {
  const out: ClaimedTask[] = [];
  for (const [queue, limit] of perQueue) {
    if (limit <= 0) continue;
    const k = keyed.get(queue);
    const picked = k === undefined ? pickDue(ctx, queue, limit, now) : (ctx.stmt(PICK_SEQS).all(JSON.stringify(pickKeyed(ctx, queue, limit, k, now))) as ClaimRow[]);
    const start = ctx.stmt(START);
    const rows: ClaimRow[] = [];
    for (const r of picked) {
      if (start.run(now, r.seq).changes !== 1) continue;
      r.attempts += 1;
      rows.push(r);
    }
    rows.sort((a, b) => b.priority - a.priority || a.run_at - b.run_at || a.seq - b.seq);
    ctx.move(queue, 'pending', 'running', rows.length);
    for (const r of rows) {
      ctx.signal(r.id, r.queue, 'running', r.attempts, now);
      out.push({
        seq: r.seq, id: r.id, queue: r.queue, targetUrl: r.target_url, method: r.method, headers: JSON.parse(r.headers),
        payloadJson: r.payload, timeoutMs: r.timeout_ms, retries: r.retries, backoff: JSON.parse(r.backoff),
        attempt: r.attempts, attemptsBase: r.attempts_base, startedAt: now, hasWebhook: r.has_webhook === 1,
        createdAt: r.created_at, scheduleId: r.schedule_id, qstash: r.qstash === null ? null : JSON.parse(r.qstash),
        async: r.async_timeout_ms === null ? null : { timeoutMs: r.async_timeout_ms, heartbeatMs: r.async_heartbeat_ms },
        batchId: r.batch_id, hasChain: r.has_chain === 1,
      });
    }
  }
  return out;
}

export function dueQueues(ctx: Ctx, queues: string[], now: number): string[] {
  const s = ctx.stmt(`SELECT 1 FROM tasks WHERE status = 'pending' AND queue = ? AND run_at <= ? LIMIT 1`);
  return queues.filter((q) => s.get(q, now) !== undefined);
}

export function nextDueAt(ctx: Ctx, queues: string[]): number | null {
  let min: number | null = null;
  const s = ctx.stmt(`SELECT MIN(run_at) AS m FROM tasks WHERE status = 'pending' AND queue = ?`);
  for (const q of queues) {
    const m = (s.get(q) as { m: number | null }).m;
    if (m !== null && (min === null || m < min)) min = m;
  }
  return min;
}

export function nextDeliveryAt(ctx: Ctx): number | null {
  const t = (ctx.stmt(`SELECT MIN(webhook_run_at) AS m FROM tasks WHERE webhook_status = 'pending'`).get() as { m: number | null }).m;
  const b = (ctx.stmt(`SELECT MIN(webhook_run_at) AS m FROM batches WHERE webhook_status = 'pending'`).get() as { m: number | null }).m;
  return t === null ? b : b === null ? t : Math.min(t, b);
}

// A task's end in completed or failed is its next outcome (api.md §16: webhook-id <id>.<outcomes>).
export const WEBHOOK_ON_END = `outcomes = outcomes + 1, webhook_status = CASE WHEN webhook_url IS NULL THEN NULL ELSE 'pending' END,
  webhook_run_at = CASE WHEN webhook_url IS NULL THEN NULL ELSE ? END, webhook_attempts = 0, webhook_attempts_base = 0, webhook_error = NULL`;
// An open async attempt (after its 202) is ended only by async.ts, never by a late answer.
const GUARD = `WHERE id = ? AND status = 'running' AND attempts = ? AND awaiting_since IS NULL RETURNING queue, chain IS NOT NULL AS has_chain, batch_id`;

/**
 * api.md §13: a task that just ended completed or failed creates its `then` / `onFailure` step's
 * task in the caller's transaction and links both; returns the created task, if any.
 */
export function createFollowUp(ctx: Ctx, id: string, now: number): NewTask | undefined {
  const p = ctx.stmt('SELECT id, queue, status, payload, result, error, attempts, completed_at, chain FROM tasks WHERE id = ?').get(id) as
    | { id: string; queue: string; status: string; payload: string; result: string | null; error: string | null; attempts: number; completed_at: number; chain: string | null }
    | undefined;
  if (!p || (p.status !== 'completed' && p.status !== 'failed')) return undefined;
  const next = followUpOf({
    id: p.id, queue: p.queue, status: p.status, payloadJson: p.payload, resultJson: p.result, errorJson: p.error, attempts: p.attempts,
    completedAt: p.completed_at, chainJson: p.chain,
  }, now);
  if (!next) return undefined;
  insertTasks(ctx, [next]);
  ctx.stmt('UPDATE tasks SET next_task_id = ? WHERE id = ?').run(next.id, id);
  return next;
}

export function finishAttempts(ctx: Ctx, results: AttemptFinish[]): boolean[] {
  const record = ctx.stmt(`INSERT OR IGNORE INTO attempts (task_id, n, started_at, duration_ms, status, error, retry_after_ms)
    SELECT ?, ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM tasks WHERE id = ?)`);
  const completed = ctx.stmt(`UPDATE tasks SET status = 'completed', result = ?, error = NULL, updated_at = ?, completed_at = ?, ${WEBHOOK_ON_END} ${GUARD}`);
  const failed = ctx.stmt(`UPDATE tasks SET status = 'failed', error = ?, updated_at = ?, completed_at = ?, ${WEBHOOK_ON_END} ${GUARD}`);
  const retry = ctx.stmt(`UPDATE tasks SET status = 'pending', run_at = ?, error = ?, updated_at = ? ${GUARD}`);
  const batchDue = ctx.stmt(`SELECT 1 FROM batches WHERE id = ? AND done_at = ? AND webhook_status = 'pending'`);
  return results.map((r) => {
    record.run(r.id, r.attempt, r.startedAt, r.durationMs, r.httpStatus ?? null, r.error ? JSON.stringify(r.error) : null, r.retryAfterMs ?? null, r.id);
    ctx.tally(r.startedAt, 'dispatched');
    if (r.httpStatus === undefined || r.httpStatus < 200 || r.httpStatus > 299) ctx.tally(r.startedAt, 'failed');
    const n = r.next;
    let row: { queue: string; has_chain: number; batch_id: string | null } | undefined;
    if (n.status === 'completed') row = completed.get(n.resultJson, r.now, r.now, r.now, r.id, r.attempt) as typeof row;
    else if (n.status === 'failed') row = failed.get(JSON.stringify(n.error), r.now, r.now, r.now, r.id, r.attempt) as typeof row;
    else row = retry.get(n.runAt, JSON.stringify(n.error), r.now, r.id, r.attempt) as typeof row;
    if (!row) return false;
    ctx.move(row.queue, 'running', n.status);
    ctx.signal(r.id, row.queue, n.status, r.attempt, r.now);
    if (n.status === 'completed') ctx.tally(r.now, 'completed');
    if (r.followUps && r.followUps.length > 0) insertTasks(ctx, r.followUps);
    if (row.has_chain === 1 && n.status !== 'pending') r.chained = createFollowUp(ctx, r.id, r.now);
    // The trigger made the batch done at this change (done_at is its time): its webhook is due.
    if (row.batch_id !== null && n.status !== 'pending') r.batchDone = batchDue.get(row.batch_id, r.now) !== undefined;
    return true;
  });
}

// As with tasks: read the due deliveries, then mark each by its seq (see PICK).
const PICK_DELIVERIES = `SELECT seq, id, status, queue, payload, result, error, attempts, completed_at, webhook_url, webhook_retries, webhook_attempts,
    webhook_attempts_base, outcomes, timeout_ms, backoff
  FROM tasks WHERE webhook_status = 'pending' AND webhook_run_at <= ? ORDER BY webhook_run_at LIMIT ? + 0`;
const START_DELIVERY = `UPDATE tasks SET webhook_status = 'sending', webhook_attempts = webhook_attempts + 1
  WHERE seq = ? AND webhook_status = 'pending'`;

interface DeliveryRow {
  seq: number; id: string; status: string; queue: string; payload: string; result: string | null; error: string | null; attempts: number;
  completed_at: number; webhook_url: string; webhook_retries: number; webhook_attempts: number; webhook_attempts_base: number;
  outcomes: number; timeout_ms: number; backoff: string;
}

// A batch's `batch.done` webhook (api.md §13) is retried as a task's with the defaults.
const CLAIM_BATCH_DELIVERIES = `UPDATE batches SET webhook_status = 'sending', webhook_attempts = webhook_attempts + 1
  WHERE id IN (SELECT id FROM batches WHERE webhook_status = 'pending' AND webhook_run_at <= ? ORDER BY webhook_run_at LIMIT ?)
  RETURNING *`;

/** Claims due deliveries (tasks' outcomes, then batches' `batch.done`) and opens their history rows (duration null while in flight). */
export function claimDeliveries(ctx: Ctx, limit: number, now: number): ClaimedDelivery[] {
  const start = ctx.stmt(START_DELIVERY);
  const rows: DeliveryRow[] = [];
  for (const r of ctx.stmt(PICK_DELIVERIES).all(now, limit) as DeliveryRow[]) {
    if (start.run(r.seq).changes !== 1) continue;
    r.webhook_attempts += 1;
    rows.push(r);
  }
  const open = ctx.stmt('INSERT OR IGNORE INTO deliveries (task_id, outcome, attempt, started_at) VALUES (?, ?, ?, ?)');
  const batches = rows.length < limit ? (ctx.stmt(CLAIM_BATCH_DELIVERIES).all(now, limit - rows.length) as (BatchRow & { webhook_attempts_base: number })[]) : [];
  const out = batches.map((b): ClaimedDelivery => {
    open.run(b.id, b.outcomes, b.webhook_attempts, now);
    return batchDelivery(b, now);
  });
  return out.concat(rows.map((r) => {
    open.run(r.id, r.outcomes, r.webhook_attempts, now);
    return {
      id: r.id,
      webhookUrl: r.webhook_url,
      // api.md §5 webhook body, assembled from the stored JSON texts without re-encoding them
      bodyJson: `{"id":${JSON.stringify(r.id)},"status":${JSON.stringify(r.status)},"queue":${JSON.stringify(r.queue)},"payload":${r.payload},"result":${r.result ?? 'null'},"error":${r.error ?? 'null'},"attempts":${r.attempts},"completedAt":${JSON.stringify(new Date(r.completed_at).toISOString())}}`,
      outcome: r.outcomes,
      attempt: r.webhook_attempts,
      attemptsBase: r.webhook_attempts_base,
      startedAt: now,
      webhookRetries: r.webhook_retries,
      timeoutMs: r.timeout_ms,
      backoff: JSON.parse(r.backoff),
    };
  }));
}


export function finishDeliveries(ctx: Ctx, results: DeliveryFinish[]): void {
  const record = ctx.stmt(`UPDATE deliveries SET duration_ms = ?, status = ?, error = ?
    WHERE task_id = ? AND outcome = ? AND attempt = ? AND duration_ms IS NULL`);
  // Guarded by outcome and attempt: a late answer to a delivery the task has moved past (a retry
  // ended it again, or a re-delivery superseded it) must not overwrite the newer state.
  const task = ctx.stmt(`UPDATE tasks SET webhook_status = ?, webhook_run_at = ?, webhook_error = ?
    WHERE id = ? AND webhook_status = 'sending' AND outcomes = ? AND webhook_attempts = ?`);
  const batch = ctx.stmt(`UPDATE batches SET webhook_status = ?, webhook_run_at = ?, webhook_error = ?
    WHERE id = ? AND webhook_status = 'sending' AND outcomes = ? AND webhook_attempts = ?`);
  for (const r of results) {
    const s = isBatchId(r.id) ? batch : task;
    const n = r.next;
    const error = n.status === 'delivered' ? null : JSON.stringify(n.error);
    record.run(r.durationMs, r.httpStatus ?? null, error, r.id, r.outcome, r.attempt);
    if (n.status === 'delivered') s.run('delivered', null, null, r.id, r.outcome, r.attempt);
    else if (n.status === 'failed') s.run('failed', null, error, r.id, r.outcome, r.attempt);
    else s.run('pending', n.runAt, error, r.id, r.outcome, r.attempt);
  }
}

const INTERRUPTED: TaskError = { type: 'interrupted', message: 'the server stopped while this attempt was in flight' };

/**
 * Running tasks go back to pending, due now, with an `interrupted` attempt. The attempt counts
 * toward `retries`, but an interruption never fails a task (api.md §5 Crash). Open async
 * attempts stay open with their deadlines: their work is at the target (api.md §10).
 */
export function recoverInterrupted(ctx: Ctx, now: number): { tasks: number; deliveries: number } {
  const err = JSON.stringify(INTERRUPTED);
  const recorded = ctx.db.prepare(`INSERT OR IGNORE INTO attempts (task_id, n, started_at, duration_ms, status, error)
    SELECT id, attempts, updated_at, MAX(0, ? - updated_at), NULL, ? FROM tasks WHERE status = 'running' AND awaiting_since IS NULL`).run(now, err).changes;
  ctx.tally(now, 'dispatched', recorded);
  ctx.tally(now, 'failed', recorded);
  const pendingRows = ctx.db.prepare(`UPDATE tasks SET status = 'pending', run_at = ?, error = ?, updated_at = ?
    WHERE status = 'running' AND awaiting_since IS NULL RETURNING id, queue, attempts`).all(now, err, now) as { id: string; queue: string; attempts: number }[];
  for (const r of pendingRows) {
    ctx.move(r.queue, 'running', 'pending');
    ctx.signal(r.id, r.queue, 'pending', r.attempts, now);
  }
  const tasks = pendingRows.length;
  // One process holds the file (open.ts), so at start no delivery is in flight: every open
  // history row is closed, of tasks and batches alike, also those of a delivery superseded while
  // in flight (its task retried, its batch done again), which no 'sending' row points at.
  ctx.db.prepare(`UPDATE deliveries INDEXED BY deliveries_open SET duration_ms = MAX(0, ? - started_at), error = ? WHERE duration_ms IS NULL`).run(now, err);
  const deliveries = ctx.db.prepare(`UPDATE tasks SET webhook_status = 'pending', webhook_run_at = ? WHERE webhook_status = 'sending'`).run(now).changes
    + ctx.db.prepare(`UPDATE batches SET webhook_status = 'pending', webhook_run_at = ? WHERE webhook_status = 'sending'`).run(now).changes;
  return { tasks, deliveries };
}
