// Fills in the contract's defaults for a task (api.md §3, create table): the one place they live.
import type { Backoff, CreateTaskInput, HttpMethod } from './types.js';
import { newId } from './ids.js';
import type { QstashMeta } from './qstash.js';

export const TASK_DEFAULTS = Object.freeze({
  method: 'POST' as HttpMethod,
  webhookRetries: 12,
  retries: 3,
  timeout: 30,
  backoff: Object.freeze({ initial: 2, factor: 2, max: 3600 }) as Readonly<Backoff>,
  queue: 'default',
  priority: 0,
  /** api.md §10: seconds the target may take after its 202, and no heartbeat required. */
  async: Object.freeze({ timeout: 3600, heartbeat: null }),
});

/** A task as the store receives it: defaults applied, times in ms, payload as JSON text. */
export interface NewTask {
  id: string;
  queue: string;
  targetUrl: string;
  method: HttpMethod;
  headers: Record<string, string>;
  /** The payload, JSON-encoded once. */
  payloadJson: string;
  /** The payload as given (so the created task can be answered without decoding payloadJson). */
  payload?: unknown;
  webhookUrl: string | null;
  webhookRetries: number;
  retries: number;
  timeoutMs: number;
  backoff: Backoff;
  priority: number;
  idempotencyKey: string | null;
  labels: string[];
  /** api.md §12; null when none. */
  concurrencyKey: string | null;
  runAt: number;
  createdAt: number;
  scheduleId: string | null;
  /** What a `/v2` (QStash) task keeps of its request; null or absent for every other task. */
  qstash?: QstashMeta | null;
  /** api.md §10 in ms: how long after a 202 the target may take, and the heartbeat interval (null = none); null = not async. */
  async: { timeoutMs: number; heartbeatMs: number | null } | null;
  /** The batch this task belongs to (api.md §13); null or absent for a task created alone. */
  batchId?: string | null;
  /** The task whose `then` / `onFailure` created this one; null or absent otherwise. */
  parentId?: string | null;
  /** `{"then"?, "onFailure"?}` as validated create bodies, JSON-encoded; null or absent without a chain. */
  chainJson?: string | null;
}

/** Applies defaults to a validated create body; `now` in ms. */
export function toNewTask(
  input: CreateTaskInput,
  now: number,
  extra: { scheduleId?: string | null; idempotencyKey?: string | null; batchId?: string | null; parentId?: string | null } = {},
): NewTask {
  const b = input.backoff ?? {};
  let runAt = now;
  if (input.runAt !== undefined) runAt = Date.parse(input.runAt);
  else if (input.delay !== undefined) runAt = now + Math.round(input.delay * 1000);
  return {
    id: newId(now),
    queue: input.queue ?? TASK_DEFAULTS.queue,
    targetUrl: input.targetUrl,
    method: input.method ?? TASK_DEFAULTS.method,
    headers: input.headers ?? {},
    payloadJson: input.payload === undefined ? 'null' : JSON.stringify(input.payload),
    payload: input.payload === undefined ? null : input.payload,
    webhookUrl: input.webhookUrl ?? null,
    webhookRetries: input.webhookRetries ?? TASK_DEFAULTS.webhookRetries,
    retries: input.retries ?? TASK_DEFAULTS.retries,
    timeoutMs: Math.round((input.timeout ?? TASK_DEFAULTS.timeout) * 1000),
    backoff: {
      initial: b.initial ?? TASK_DEFAULTS.backoff.initial,
      factor: b.factor ?? TASK_DEFAULTS.backoff.factor,
      max: b.max ?? TASK_DEFAULTS.backoff.max,
    },
    priority: input.priority ?? TASK_DEFAULTS.priority,
    idempotencyKey: extra.idempotencyKey ?? input.idempotencyKey ?? null,
    labels: input.labels ?? [],
    concurrencyKey: input.concurrencyKey ?? null,
    runAt,
    createdAt: now,
    scheduleId: extra.scheduleId ?? null,
    qstash: input.qstash ?? null,
    async: input.async
      ? {
          timeoutMs: Math.round((input.async.timeout ?? TASK_DEFAULTS.async.timeout) * 1000),
          heartbeatMs: input.async.heartbeat == null ? null : Math.round(input.async.heartbeat * 1000),
        }
      : null,
    batchId: extra.batchId ?? null,
    parentId: extra.parentId ?? null,
    chainJson: chainJsonOf(input),
  };
}

/** The `then` / `onFailure` steps of a create body as stored with the task (null without either). */
export function chainJsonOf(input: CreateTaskInput): string | null {
  if (input.then === undefined && input.onFailure === undefined) return null;
  return JSON.stringify({ then: input.then, onFailure: input.onFailure });
}
