// Maps rows of the tasks and attempts tables to the wire objects, and encodes list cursors.
import type { NewTask } from '../../shared/defaults.js';
import { ATTEMPTS_BASE, type ClaimedDelivery } from '../store.js';
import { TASK_DEFAULTS } from '../../shared/defaults.js';
import type { Attempt, AttemptAsync, Awaiting, Batch, BatchDoneBody, Delivery, Task, TaskError, TaskStatus } from '../../shared/types.js';
import { isoTime } from '../../shared/time.js';

export interface TaskRow {
  seq: number;
  id: string;
  queue: string;
  status: TaskStatus;
  target_url: string;
  method: Task['method'];
  headers: string;
  payload: string;
  webhook_url: string | null;
  webhook_retries: number;
  retries: number;
  timeout_ms: number;
  backoff: string;
  priority: number;
  idempotency_key: string | null;
  labels: string;
  attempts: number;
  attempts_base: number;
  run_at: number;
  created_at: number;
  updated_at: number;
  completed_at: number | null;
  result: string | null;
  error: string | null;
  webhook_status: string | null;
  webhook_attempts: number;
  webhook_run_at: number | null;
  webhook_error: string | null;
  schedule_id: string | null;
  qstash: string | null;
  async_timeout_ms: number | null;
  async_heartbeat_ms: number | null;
  awaiting_since: number | null;
  awaiting_deadline: number | null;
  awaiting_heartbeat_at: number | null;
  concurrency_key: string | null;
  batch_id: string | null;
  parent_id: string | null;
  next_task_id: string | null;
  chain: string | null;
}

export interface AttemptRow {
  n: number;
  started_at: number;
  duration_ms: number | null;
  status: number | null;
  error: string | null;
  retry_after_ms: number | null;
  accepted_at: number | null;
  ended: AttemptAsync['ended'];
  ended_at: number | null;
  heartbeat_at: number | null;
}

/** The task's async settings in seconds (api.md §10), from their columns. */
export function asyncOf(timeoutMs: number | null, heartbeatMs: number | null): Task['async'] {
  return timeoutMs === null ? null : { timeout: timeoutMs / 1000, heartbeat: heartbeatMs === null ? null : heartbeatMs / 1000 };
}

/** The open attempt of a running task after its 202, from the awaiting columns. */
export function awaitingOf(r: Pick<TaskRow, 'status' | 'attempts' | 'awaiting_since' | 'awaiting_deadline' | 'awaiting_heartbeat_at'>): Awaiting | null {
  if (r.status !== 'running' || r.awaiting_since === null || r.awaiting_deadline === null) return null;
  return {
    attempt: r.attempts,
    since: iso(r.awaiting_since),
    deadline: iso(r.awaiting_deadline),
    heartbeatAt: r.awaiting_heartbeat_at === null ? null : iso(r.awaiting_heartbeat_at),
  };
}

const iso = isoTime;

export function toTask(r: TaskRow): Task {
  const task: Task = {
    id: r.id,
    queue: r.queue,
    status: r.status,
    targetUrl: r.target_url,
    method: r.method,
    headers: JSON.parse(r.headers),
    payload: JSON.parse(r.payload),
    webhookUrl: r.webhook_url,
    webhookRetries: r.webhook_retries,
    retries: r.retries,
    timeout: r.timeout_ms / 1000,
    backoff: JSON.parse(r.backoff),
    priority: r.priority,
    idempotencyKey: r.idempotency_key,
    labels: JSON.parse(r.labels),
    concurrencyKey: r.concurrency_key ?? null,
    attempts: r.attempts,
    runAt: iso(r.run_at),
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    completedAt: r.completed_at === null ? null : iso(r.completed_at),
    result: r.result === null ? null : JSON.parse(r.result),
    error: r.error === null ? null : (JSON.parse(r.error) as TaskError),
    webhook:
      r.webhook_status === null
        ? null
        : {
            status: r.webhook_status === 'sending' ? 'pending' : (r.webhook_status as 'pending' | 'delivered' | 'failed'),
            attempts: r.webhook_attempts,
            error: r.webhook_error === null ? null : JSON.parse(r.webhook_error),
          },
    scheduleId: r.schedule_id,
    qstash: r.qstash === null ? null : JSON.parse(r.qstash),
    async: asyncOf(r.async_timeout_ms, r.async_heartbeat_ms),
    awaiting: awaitingOf(r),
    waiting: null,
    batchId: r.batch_id ?? null,
    parentId: r.parent_id ?? null,
    nextTaskId: r.next_task_id ?? null,
  };
  if (r.attempts_base > 0) Object.defineProperty(task, ATTEMPTS_BASE, { value: r.attempts_base, enumerable: true });
  return task;
}

/** The Task a fresh insert of `t` makes, without reading the row back (the create hot path). */
export function newTaskToTask(t: NewTask, payload: unknown): Task {
  const created = iso(t.createdAt);
  return {
    id: t.id, queue: t.queue, status: 'pending', targetUrl: t.targetUrl, method: t.method, headers: t.headers, payload,
    webhookUrl: t.webhookUrl, webhookRetries: t.webhookRetries, retries: t.retries, timeout: t.timeoutMs / 1000, backoff: t.backoff,
    priority: t.priority, idempotencyKey: t.idempotencyKey, labels: t.labels, concurrencyKey: t.concurrencyKey ?? null, attempts: 0, runAt: iso(t.runAt), createdAt: created,
    updatedAt: created, completedAt: null, result: null, error: null, webhook: null, scheduleId: t.scheduleId,
    qstash: t.qstash ?? null,
    async: t.async && asyncOf(t.async.timeoutMs, t.async.heartbeatMs), awaiting: null, waiting: null,
    batchId: t.batchId ?? null, parentId: t.parentId ?? null, nextTaskId: null,
  };
}

export function toAttempt(r: AttemptRow): Attempt {
  const a: Attempt = { n: r.n, startedAt: iso(r.started_at), durationMs: r.duration_ms };
  if (r.status !== null) a.status = r.status;
  if (r.error !== null) a.error = JSON.parse(r.error);
  if (r.retry_after_ms !== null) a.retryAfter = r.retry_after_ms / 1000;
  if (r.accepted_at !== null) {
    a.async = {
      acceptedAt: iso(r.accepted_at),
      ended: r.ended,
      endedAt: r.ended_at === null ? null : iso(r.ended_at),
      lastHeartbeatAt: r.heartbeat_at === null ? null : iso(r.heartbeat_at),
    };
  }
  return a;
}

export interface DeliveryRow extends Omit<AttemptRow, 'n'> {
  outcome: number;
  attempt: number;
}

export function toDelivery(r: DeliveryRow): Delivery {
  const d: Delivery = { outcome: r.outcome, attempt: r.attempt, startedAt: iso(r.started_at), durationMs: r.duration_ms };
  if (r.status !== null) d.status = r.status;
  if (r.error !== null) d.error = JSON.parse(r.error);
  return d;
}

/** A row of the batches table (api.md §13); the same columns on both stores. */
export interface BatchRow {
  id: string;
  webhook_url: string | null;
  labels: string;
  total: number;
  pending: number;
  running: number;
  completed: number;
  failed: number;
  cancelled: number;
  created_at: number;
  done_at: number | null;
  outcomes: number;
  last_done_at: number | null;
  done_total: number | null;
  done_completed: number | null;
  done_failed: number | null;
  done_cancelled: number | null;
  webhook_status: string | null;
  webhook_attempts: number;
  webhook_error: string | null;
}

export function toBatch(r: BatchRow): Batch {
  return {
    id: r.id,
    total: Number(r.total),
    counts: { pending: Number(r.pending), running: Number(r.running), completed: Number(r.completed), failed: Number(r.failed), cancelled: Number(r.cancelled) },
    done: r.done_at !== null,
    createdAt: iso(Number(r.created_at)),
    doneAt: r.done_at === null ? null : iso(Number(r.done_at)),
    webhookUrl: r.webhook_url,
    labels: JSON.parse(r.labels),
    webhook:
      r.webhook_status === null
        ? null
        : {
            status: r.webhook_status === 'sending' ? 'pending' : (r.webhook_status as 'pending' | 'delivered' | 'failed'),
            attempts: r.webhook_attempts,
            error: r.webhook_error === null ? null : JSON.parse(r.webhook_error),
          },
  };
}

/** The `batch.done` body of the batch's latest time it became done (the counts as they were then). */
export function batchDoneBodyJson(r: BatchRow): string {
  const body: BatchDoneBody = {
    type: 'batch.done',
    batch: {
      id: r.id,
      total: Number(r.done_total ?? r.total),
      counts: { pending: 0, running: 0, completed: Number(r.done_completed ?? 0), failed: Number(r.done_failed ?? 0), cancelled: Number(r.done_cancelled ?? 0) },
      done: true,
      createdAt: iso(Number(r.created_at)),
      doneAt: r.last_done_at === null ? null : iso(Number(r.last_done_at)),
      webhookUrl: r.webhook_url,
      labels: JSON.parse(r.labels),
    },
  };
  return JSON.stringify(body);
}

/** A claimed `batch.done` delivery: the body of the batch's latest time done, the task webhook defaults (api.md §3). */
export function batchDelivery(b: BatchRow & { webhook_attempts_base: number }, startedAt: number): ClaimedDelivery {
  return {
    id: b.id, kind: 'batch', webhookUrl: b.webhook_url!, bodyJson: batchDoneBodyJson(b), outcome: b.outcomes, attempt: b.webhook_attempts,
    attemptsBase: b.webhook_attempts_base, startedAt, webhookRetries: TASK_DEFAULTS.webhookRetries, timeoutMs: TASK_DEFAULTS.timeout * 1000,
    backoff: { ...TASK_DEFAULTS.backoff },
  };
}

/** Opaque list cursor: base64url of "v1:<seq>". */
export function encodeCursor(seq: number): string {
  return Buffer.from(`v1:${seq}`).toString('base64url');
}

/** The seq in a cursor, or undefined when it was not made by encodeCursor. */
export function decodeCursor(cursor: string): number | undefined {
  if (!/^[A-Za-z0-9_-]{1,40}$/.test(cursor)) return undefined;
  const m = /^v1:(\d{1,15})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : undefined;
}
