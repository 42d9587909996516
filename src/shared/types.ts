// Wire types of the public contract (api.md §3): what the API answers and accepts.
// Shared by the server, the SDK and the CLI; no runtime code lives here.

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
  type: 'http' | 'timeout' | 'network' | 'cancelled' | 'interrupted' | 'blocked';
  status?: number;
  message: string;
}

export interface WebhookState {
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  error: TaskError | null;
}

export interface Task {
  id: string;
  queue: string;
  status: TaskStatus;
  targetUrl: string;
  method: HttpMethod;
  headers: Record<string, string>;
  payload: unknown;
  webhookUrl: string | null;
  webhookRetries: number;
  retries: number;
  /** Seconds per attempt. */
  timeout: number;
  backoff: Backoff;
  priority: number;
  idempotencyKey: string | null;
  labels: string[];
  /** Attempts started so far. */
  attempts: number;
  runAt: string;
  createdAt: string;
  updatedAt: string;
  completedAt: string | null;
  result: unknown;
  error: TaskError | null;
  webhook: WebhookState | null;
  /** The schedule that created this task, if any. */
  scheduleId: string | null;
}

/** The body of `POST /v1/tasks`. */
export interface CreateTaskInput {
  targetUrl: string;
  payload?: unknown;
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
}

export interface Attempt {
  n: number;
  startedAt: string;
  /** Null while the attempt is in flight. */
  durationMs: number | null;
  status?: number;
  error?: TaskError;
}

export interface Queue {
  name: string;
  /** Max attempts in flight; null = only the global limit. */
  concurrency: number | null;
  /** Max dispatch starts per second; null = no limit. */
  ratePerSecond: number | null;
  paused: boolean;
  counts: Record<TaskStatus, number>;
}

export interface QueueUpdate {
  concurrency?: number | null;
  ratePerSecond?: number | null;
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
  limit?: number;
  cursor?: string;
}

/** Filter of the bulk routes `POST /v1/tasks/retry` and `/cancel`: at least one field. */
export interface BulkFilter {
  ids?: string[];
  status?: TaskStatus;
  queue?: string;
  label?: string;
  createdBefore?: string;
}

/** One Server-Sent Event of `GET /v1/events` (event name `task`). */
export interface TaskEvent {
  id: string;
  queue: string;
  status: TaskStatus;
  attempts: number;
  at: string;
}

/** The body POSTed to a task's `webhookUrl` (api.md §5). */
export interface WebhookBody {
  id: string;
  status: 'completed' | 'failed';
  queue: string;
  payload: unknown;
  result: unknown;
  error: TaskError | null;
  attempts: number;
  completedAt: string;
}

/** Every error body: `{"error": {...}}`. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown[] };
}

/** Limits of the API that clients need to know. */
export const MAX_BATCH = 1000;
export const MAX_LIST_LIMIT = 500;
export const MAX_WAIT_SECONDS = 60;
