// Wire types of the public contract (api.md §3): what the API answers and accepts.
// Shared by the server, the SDK and the CLI; no runtime code lives here.
import type { QstashMeta } from './qstash.js';

export type { QstashMeta } from './qstash.js';

/** A task's state. `completed`, `failed` and `cancelled` are terminal. */
export type TaskStatus = 'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

export const TASK_STATUSES: readonly TaskStatus[] = ['pending', 'running', 'completed', 'failed', 'cancelled'];
export const TERMINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Delay before retry n is `min(max, initial·factor^(n-1))` seconds, with jitter. */
export interface Backoff {
  initial: number;
  factor: number;
  max: number;
}

/** Why the last attempt (or delivery) failed. */
export interface TaskError {
  /** `async`: the target's own `fail` call on an open async attempt (api.md §10). */
  type: 'http' | 'timeout' | 'network' | 'cancelled' | 'interrupted' | 'blocked' | 'async';
  status?: number;
  message: string;
}

export interface WebhookState {
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  error: TaskError | null;
}

/** A task whose target may answer 202 and finish later (api.md §10); seconds. */
export interface AsyncSettings {
  /** How long the target may take after its 202 (1–604800, default 3600). */
  timeout: number;
  /** If set (5–3600), the target must heartbeat at least this often; null = no heartbeat needed. */
  heartbeat: number | null;
}

/** The open attempt of a task whose target answered 202 (api.md §10). */
export interface Awaiting {
  attempt: number;
  /** When the 202 arrived. */
  since: string;
  /** When the attempt times out unless completed, failed or (with `heartbeat`) heartbeated. */
  deadline: string;
  /** The last heartbeat, or null before the first. */
  heartbeatAt: string | null;
}

/** Why a pending task is not running (api.md §11). */
export type WaitingReason =
  | 'scheduled'
  | 'backoff'
  | 'queue_paused'
  | 'queue_concurrency'
  | 'queue_rate'
  | 'global_concurrency'
  | 'key_concurrency'
  | 'host_circuit_open'
  | 'ready';

export const WAITING_REASONS: readonly WaitingReason[] = [
  'scheduled', 'backoff', 'queue_paused', 'queue_concurrency', 'queue_rate', 'global_concurrency', 'key_concurrency', 'host_circuit_open', 'ready',
];

export interface Waiting {
  reason: WaitingReason;
  /** When the reason ends, where that is known (ISO). */
  until?: string;
  /** The reason in words: "retry 3 of 5 after HTTP 503; not before 14:02:11 UTC". */
  message: string;
}

/** `GET /v1/tasks/:id/plan` (api.md §11): what the queue will do with the task if every attempt fails. */
export interface TaskPlan {
  waiting: Waiting | null;
  /** Each remaining attempt: the earliest and latest time it would start (ISO); latest null when it cannot be known (a paused queue). */
  attempts: { n: number; earliest: string; latest: string | null }[];
  /** The latest time the task would end `failed`; null for a terminal task or when unknown. */
  givesUpAt: string | null;
}

/**
 * A task (api.md §3). The type parameters only describe your own data: `payload` as you created
 * it, `result` as your target answers it (null until the task completes, and when it fails).
 */
export interface Task<TPayload = unknown, TResult = unknown> {
  id: string;
  queue: string;
  status: TaskStatus;
  targetUrl: string;
  method: HttpMethod;
  headers: Record<string, string>;
  payload: TPayload;
  webhookUrl: string | null;
  webhookRetries: number;
  retries: number;
  /** Seconds per attempt. */
  timeout: number;
  backoff: Backoff;
  priority: number;
  idempotencyKey: string | null;
  labels: string[];
  /** Groups the queue's tasks for its `keyConcurrency` and for turns between keys (api.md §12); null when none. */
  concurrencyKey: string | null;
  /** Attempts started so far. */
  attempts: number;
  runAt: string;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  /** The target's 2xx answer once `completed`; null before, and when the task failed. */
  result: TResult | null;
  error: TaskError | null;
  webhook: WebhookState | null;
  /** The schedule that created this task, if any. */
  scheduleId: string | null;
  /** Set for a task made through the QStash-compatible `/v2` API (api.md §14): what it keeps of that request. */
  qstash: QstashMeta | null;
  /** Async completion settings (api.md §10); null for an ordinary task. */
  async: AsyncSettings | null;
  /** The open attempt after the target's 202; null otherwise. */
  awaiting: Awaiting | null;
  /** Why a pending task is not running (api.md §11); null unless `pending`. */
  waiting: Waiting | null;
  /** The batch that created this task (api.md §13); null for a task created alone. */
  batchId: string | null;
  /** The task whose `then` or `onFailure` created this one (api.md §13); null otherwise. */
  parentId: string | null;
  /** The task this one's `then` or `onFailure` created when it ended; null until then. */
  nextTaskId: string | null;
}

/** The body of `POST /v1/tasks`. */
export interface CreateTaskInput<TPayload = unknown> {
  targetUrl: string;
  payload?: TPayload;
  method?: HttpMethod;
  headers?: Record<string, string>;
  webhookUrl?: string;
  webhookRetries?: number;
  retries?: number;
  timeout?: number;
  backoff?: Partial<Backoff>;
  delay?: number;
  runAt?: string;
  queue?: string;
  priority?: number;
  idempotencyKey?: string;
  labels?: string[];
  /** 1–200 characters, e.g. a tenant id: the queue's `keyConcurrency` caps attempts in flight per key, and keys take turns (api.md §12). */
  concurrencyKey?: string;
  /** Internal: set only by the `/v2` API and schedules it creates; never accepted from a `/v1` body. */
  qstash?: QstashMeta;
  /** Let the target answer 202 and finish later (api.md §10); seconds, defaults 3600 and null. */
  async?: { timeout?: number; heartbeat?: number | null };
  /** Created when this task ends `completed` (api.md §13); its payload defaults to this task's result. */
  then?: ChainedTaskInput;
  /** Created when this task ends `failed`; its payload defaults to this task's §5 webhook body. */
  onFailure?: ChainedTaskInput;
}

/** A `then` / `onFailure` step: a create body without an idempotencyKey, itself allowed further steps (10 levels at most). */
export type ChainedTaskInput<TPayload = unknown> = Omit<CreateTaskInput<TPayload>, 'idempotencyKey' | 'qstash'>;

/** Most levels of `then` / `onFailure` below a created task. */
export const MAX_CHAIN_DEPTH = 10;
/** Most tasks one create call may imply: every task of the body and every `then` / `onFailure` step at every level. */
export const MAX_IMPLIED_TASKS = 20_000;

/** The body of `POST /v1/tasks/batch`. */
export interface CreateBatchInput {
  tasks: CreateTaskInput[];
  /** Fan-in: a webhook when every task of the batch has ended, and labels of the batch (api.md §13). */
  batch?: { webhookUrl?: string; labels?: string[] };
}

/** Counts of a batch's tasks by state. */
export type BatchCounts = Record<TaskStatus, number>;

/** A batch (`GET /v1/batches/:id`, api.md §13): its tasks counted by state, kept as each task changes. */
export interface Batch {
  id: string;
  /** Tasks in the batch. */
  total: number;
  counts: BatchCounts;
  /** True when every task of the batch is terminal. */
  done: boolean;
  createdAt: string;
  /** When the batch last became done; null while it is not done. */
  doneAt: string | null;
  webhookUrl: string | null;
  labels: string[];
  /** The `batch.done` webhook of the latest time it became done; null without a webhookUrl or before the first. */
  webhook: WebhookState | null;
}

/** The body POSTed to a batch's `webhookUrl` each time it becomes done (`webhook-id: <batch id>.<n>`). */
export interface BatchDoneBody {
  type: 'batch.done';
  batch: Omit<Batch, 'webhook'>;
}

export interface Attempt {
  n: number;
  startedAt: string;
  /** Null while the attempt is in flight. */
  durationMs: number | null;
  status?: number;
  error?: TaskError;
  /** The delay a `Retry-After` header of this attempt's answer asked for, in seconds. */
  retryAfter?: number;
  /** For an attempt the target answered 202 (api.md §10): the wait and how it ended. */
  async?: AttemptAsync;
}

export interface AttemptAsync {
  /** When the 202 arrived. */
  acceptedAt: string;
  /** How the open attempt ended; null while it is open. */
  ended: 'completed' | 'failed' | 'timeout' | 'cancelled' | null;
  endedAt: string | null;
  /** The last heartbeat, or null if none came. */
  lastHeartbeatAt: string | null;
}

/** One webhook delivery attempt (`GET /v1/tasks/:id/deliveries`, api.md §16). */
export interface Delivery {
  /** Which of the task's outcomes it delivered, from 1: the `n` of `webhook-id: <task id>.<n>`. */
  outcome: number;
  /** The attempt within its outcome, from 1 (re-deliveries continue the count). */
  attempt: number;
  startedAt: string;
  /** Null while the delivery is in flight. */
  durationMs: number | null;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  error?: TaskError;
}

export interface Queue {
  name: string;
  /** Max attempts in flight; null = only the global limit. */
  concurrency: number | null;
  /** Max dispatch starts per second; null = no limit. */
  ratePerSecond: number | null;
  /** Max attempts in flight per `concurrencyKey` (api.md §12); null = no per-key limit (and no turns between keys). */
  keyConcurrency: number | null;
  paused: boolean;
  counts: Record<TaskStatus, number>;
}

/** One target or webhook origin of a node (`GET /v1/hosts`, api.md §12). */
export interface Host {
  /** `scheme://host:port`, default ports left out. */
  origin: string;
  state: 'closed' | 'open' | 'half_open';
  /** Attempts and webhook deliveries in flight to it on this node. */
  inFlight: number;
  /** Its concurrency after 429/503 answers (capped by --host-concurrency); null = none of its own. */
  limit: number | null;
  consecutiveFailures: number;
  /** ISO time the open circuit lets one probe through; null unless open. */
  openUntil: string | null;
  /** ISO time before which no attempt starts (a Retry-After of a 429/503, at most 10 minutes); null when none. */
  notBefore: string | null;
  /** The last failures (at most 5), newest first. */
  recentFailures: { at: string; error: string }[];
}

export interface QueueUpdate {
  concurrency?: number | null;
  ratePerSecond?: number | null;
  keyConcurrency?: number | null;
  paused?: boolean;
}

export interface Stats {
  counts: Record<TaskStatus, number>;
  queues: Record<string, Record<TaskStatus, number>>;
  /** Per minute over the last hour, oldest first: `{ minute: ISO time, dispatched, failed, completed }`. */
  perMinute: { minute: string; dispatched: number; completed: number; failed: number }[];
  inFlight: number;
}

export interface TaskList {
  tasks: Task[];
  nextCursor: string | null;
}

export interface ListTasksQuery {
  status?: TaskStatus;
  queue?: string;
  label?: string;
  /** Tasks created by this schedule. */
  schedule?: string;
  /** Tasks of this batch (api.md §13). */
  batch?: string;
  /** With `payloadValue`: tasks whose payload has that value (as text) at this dot path, e.g. `jobId`. A bounded scan: see the README. */
  payloadField?: string;
  payloadValue?: string;
  limit?: number;
  cursor?: string;
}

/** Filter of the bulk routes `POST /v1/tasks/retry` and `/cancel`: at least one field. */
export interface BulkFilter {
  ids?: string[];
  /** Tasks of this batch (api.md §13). */
  batch?: string;
  status?: TaskStatus;
  queue?: string;
  label?: string;
  createdBefore?: string;
}

/** Filter of `POST /v1/tasks/redeliver`: the bulk filter plus the webhook's state, e.g. `{ webhookStatus: "failed" }`. */
export interface RedeliverFilter extends BulkFilter {
  webhookStatus?: WebhookState['status'];
}

/** One Server-Sent Event of `GET /v1/events` (event name `task`). */
/** A node of the cluster as GET /v1/cluster shows it (api.md §9). */
export interface ClusterNodeView {
  id: string;
  name: string;
  startedAt: string;
  heartbeatAt: string;
  inFlight: number;
  /** Runs schedules, retention and the rescue of dead nodes' work; never true for a dead node. */
  leader: boolean;
  /** Its heartbeat is younger than --node-timeout. */
  alive: boolean;
}

export interface TaskEvent {
  id: string;
  queue: string;
  status: TaskStatus;
  attempts: number;
  at: string;
}

/** What every outcome webhook body has (api.md §5). */
interface WebhookBodyBase<TPayload> {
  /** The task id. */
  id: string;
  queue: string;
  /** The task's payload, as created. */
  payload: TPayload;
  /** Attempts made over the task's life. */
  attempts: number;
  completedAt: string;
}

/** The webhook of a task that ended `completed`: `result` is the target's 2xx answer. */
export interface CompletedWebhookBody<TResult = unknown, TPayload = unknown> extends WebhookBodyBase<TPayload> {
  status: 'completed';
  result: TResult;
  error: null;
}

/** The webhook of a task that ended `failed`: `result` is null and `error` says why. */
export interface FailedWebhookBody<TPayload = unknown> extends WebhookBodyBase<TPayload> {
  status: 'failed';
  result: null;
  error: TaskError;
}

/**
 * The body POSTed to a task's `webhookUrl` (api.md §5). Check `status` before reading
 * `result`: it is null when the task failed.
 */
export type WebhookBody<TResult = unknown, TPayload = unknown> = CompletedWebhookBody<TResult, TPayload> | FailedWebhookBody<TPayload>;

/** Every error body: `{"error": {...}}`. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown[] };
}

/** Limits of the API that clients need to know. */
export const MAX_BATCH = 1000;
export const MAX_LIST_LIMIT = 500;
export const MAX_WAIT_SECONDS = 60;

/** What a schedule does with fire times missed while the server was down (or more than a minute late). */
export type ScheduleCatchUp = 'none' | 'latest' | 'all';

/** A recurring task (`/v1/schedules`): each fire time of `cron` in `timezone` creates a task from `task`. */
export interface Schedule {
  id: string;
  /** 5 fields, or 6 with seconds first; names (MON-FRI, JAN) and nicknames (@daily) allowed. */
  cron: string;
  /** IANA zone the expression is read in (default "UTC"). */
  timezone: string;
  /** The create-task body each firing uses (api.md §3), without `runAt` and `idempotencyKey`. */
  task: CreateTaskInput;
  paused: boolean;
  /** Missed fire times: `none` skips them, `latest` fires the most recent once (default), `all` fires up to `catchUpMax`. */
  catchUp: ScheduleCatchUp;
  /** Most missed fire times `catchUp: "all"` fires (default 10). */
  catchUpMax: number;
  /** The last fire time that created a task (a `trigger` counts), ISO; null before the first. */
  lastFireAt: string | null;
  /** The next fire time, ISO; null while paused. */
  nextFireAt: string | null;
  createdAt: string;
  updatedAt: string;
}

/** The body of `POST /v1/schedules`: creates, or replaces the schedule with the same `id`. */
export interface ScheduleInput {
  /** `[A-Za-z0-9_.-]{1,64}`; generated (`sch_…`) when absent. */
  id?: string;
  cron: string;
  timezone?: string;
  task: CreateTaskInput;
  paused?: boolean;
  catchUp?: ScheduleCatchUp;
  catchUpMax?: number;
}

/** The body of `PUT /v1/schedules/:id`: the fields to change. */
export type ScheduleUpdate = Partial<Omit<ScheduleInput, 'id'>>;
