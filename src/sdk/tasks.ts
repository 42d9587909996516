// `client.tasks`: create, read, wait for, list, cancel, retry, delete and re-deliver tasks
// (api.md §3, §16). Each method is one route over the shared Requester; no state of its own.
import { MAX_BATCH, MAX_WAIT_SECONDS, TERMINAL_STATUSES } from '../shared/types.js';
import type { Attempt, BulkFilter, CreateTaskInput, Delivery, ListTasksQuery, RedeliverFilter, Task, TaskList, TaskPlan } from '../shared/types.js';
import { AsyncQueueError, BatchError } from './errors.js';
import type { Requester } from './request.js';

/** Options of `tasks.create`. */
export interface CreateOptions {
  /**
   * Give the task a random `idempotencyKey` (unless it has one), which makes it safe to
   * retry the call after a refused connection or a 502/503/504: the server creates the
   * task at most once. Creates without a key are never retried (default false).
   */
  idempotent?: boolean;
  /** Hold the answer until the task is terminal or this many seconds pass (≤ 60). */
  wait?: number;
  signal?: AbortSignal;
}

/** Options of `tasks.createMany`. */
export interface CreateManyOptions {
  /** Give every task without one a random `idempotencyKey`, so failed batches are retried safely (default false). */
  idempotent?: boolean;
  /** Called after each stored batch with its tasks and the input index of its first task. */
  onBatch?: (tasks: Task[], offset: number) => void;
  /** Tasks per request (default and maximum 1000, the server's limit). */
  batchSize?: number;
  /** Fan-in (api.md §13): a `batch.done` webhook and labels for each batch this call makes. */
  batch?: { webhookUrl?: string; labels?: string[] };
  signal?: AbortSignal;
}

/** What `createMany` returns: the tasks in order, and the batch (`bat_…`) of each request it made (api.md §13). */
export type CreatedTasks = Task[] & {
  /** The batch of the first (with at most 1000 tasks, the only) request; undefined when nothing was sent. */
  batchId: string | undefined;
  /** Every batch made, in order: one per `batchSize` tasks. */
  batchIds: string[];
};

/** Options of `tasks.waitFor`. */
export interface WaitOptions {
  /** Give up after this many seconds and return the task as it is (default: no limit). */
  timeout?: number;
  /** Seconds each long-poll may be held by the server (default 60, the maximum). */
  poll?: number;
  /** Called with the task after each long-poll returns. */
  onUpdate?: (task: Task) => void;
  signal?: AbortSignal;
}

/** Options of `complete`, `fail` and `heartbeat` (api.md §10). */
export interface CompletionOptions {
  /** The attempt's `AQ-Completion-Token` (default: the client's API token). */
  token?: string;
  /** The attempt meant; the server refuses (401) a token of another attempt. Default: the token's own (or the latest). */
  attempt?: number;
  signal?: AbortSignal;
}

/** Answer of the bulk routes: how many tasks changed. */
export interface BulkResult {
  count: number;
}

/** True for `completed`, `failed` and `cancelled`. */
export function isTerminal(task: Pick<Task, 'status'>): boolean {
  return TERMINAL_STATUSES.includes(task.status);
}

const path = (id: string, rest = '') => `/v1/tasks/${encodeURIComponent(id)}${rest}`;

/** The task routes of one server. */
export class TasksResource {
  readonly #r: Requester;

  constructor(requester: Requester) {
    this.#r = requester;
  }

  /** Creates a task (`POST /v1/tasks`). An already used `idempotencyKey` returns the existing task. */
  async create<TPayload = unknown, TResult = unknown>(input: CreateTaskInput<TPayload>, opts: CreateOptions = {}): Promise<Task<TPayload, TResult>> {
    const body = opts.idempotent && !input.idempotencyKey ? { ...input, idempotencyKey: randomKey() } : input;
    return this.#r.request<Task<TPayload, TResult>>({ expect: 'id',
      method: 'POST',
      path: '/v1/tasks',
      query: { wait: opts.wait },
      body,
      retry: Boolean(body.idempotencyKey),
      extraTimeout: opts.wait,
      signal: opts.signal,
    });
  }

  /**
   * Creates many tasks through `POST /v1/tasks/batch`, in batches of up to 1000, one after
   * another. Each batch is all-or-nothing; if one is refused this throws a BatchError that
   * lists the tasks created before it, and sends no further batch. Returns every task, in order.
   */
  async createMany(inputs: CreateTaskInput[], opts: CreateManyOptions = {}): Promise<CreatedTasks> {
    const size = Math.max(1, Math.min(MAX_BATCH, opts.batchSize ?? MAX_BATCH));
    const created: Task[] = [];
    const batchIds: string[] = [];
    for (let offset = 0; offset < inputs.length; offset += size) {
      let batch = inputs.slice(offset, offset + size);
      if (opts.idempotent) batch = batch.map((t) => (t.idempotencyKey ? t : { ...t, idempotencyKey: randomKey() }));
      let tasks: Task[];
      try {
        const answer = await this.#r.request<{ batchId: string; tasks: Task[] }>({ expect: 'tasks',
          method: 'POST',
          path: '/v1/tasks/batch',
          body: opts.batch ? { tasks: batch, batch: opts.batch } : { tasks: batch },
          retry: batch.every((t) => t.idempotencyKey),
          signal: opts.signal,
        });
        tasks = answer.tasks;
        batchIds.push(answer.batchId);
      } catch (err) {
        if (err instanceof AsyncQueueError) throw new BatchError(err, created, offset);
        throw err;
      }
      created.push(...tasks);
      opts.onBatch?.(tasks, offset);
    }
    return Object.assign(created, { batchId: batchIds[0], batchIds });
  }

  /** Reads a task; with `wait` (seconds, ≤ 60) the server holds the answer until it is terminal or the time passes. */
  async get<TPayload = unknown, TResult = unknown>(id: string, opts: { wait?: number; signal?: AbortSignal } = {}): Promise<Task<TPayload, TResult>> {
    return this.#r.request<Task<TPayload, TResult>>({ expect: 'id', method: 'GET', path: path(id), query: { wait: opts.wait }, retry: true, extraTimeout: opts.wait, signal: opts.signal });
  }

  /**
   * Waits until the task is terminal by repeating `GET ?wait=` long-polls, and returns it.
   * When `timeout` seconds pass first, returns the task as it is then: check `status`.
   */
  async waitFor<TPayload = unknown, TResult = unknown>(id: string, opts: WaitOptions = {}): Promise<Task<TPayload, TResult>> {
    const deadline = opts.timeout === undefined ? Infinity : Date.now() + opts.timeout * 1000;
    const poll = Math.max(0, Math.min(MAX_WAIT_SECONDS, opts.poll ?? MAX_WAIT_SECONDS));
    for (;;) {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      const task = await this.get<TPayload, TResult>(id, { wait: Math.max(0, Math.min(poll, left)), signal: opts.signal });
      opts.onUpdate?.(task);
      if (isTerminal(task) || Date.now() >= deadline) return task;
    }
  }

  /** One page of tasks, newest first (`limit` ≤ 500, default 50); pass `nextCursor` back as `cursor` for the next. */
  async list(query: ListTasksQuery = {}, opts: { signal?: AbortSignal } = {}): Promise<TaskList> {
    return this.#r.request<TaskList>({ expect: 'tasks', method: 'GET', path: '/v1/tasks', query: { ...query }, retry: true, signal: opts.signal });
  }

  /** Every task matching `query`, newest first, fetching page after page as the loop asks for more. */
  async *iterate(query: Omit<ListTasksQuery, 'cursor'> = {}, opts: { signal?: AbortSignal } = {}): AsyncGenerator<Task> {
    let cursor: string | undefined;
    do {
      const page = await this.list({ ...query, cursor }, opts);
      yield* page.tasks;
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
  }

  /** The attempts of a task, oldest first. */
  async attempts(id: string, opts: { signal?: AbortSignal } = {}): Promise<Attempt[]> {
    const answer = await this.#r.request<{ attempts: Attempt[] }>({ expect: 'attempts', method: 'GET', path: path(id, '/attempts'), retry: true, signal: opts.signal });
    return answer.attempts;
  }

  /** Every webhook delivery attempt of a task, oldest first (api.md §16). */
  async deliveries(id: string, opts: { signal?: AbortSignal } = {}): Promise<Delivery[]> {
    const answer = await this.#r.request<{ deliveries: Delivery[] }>({ expect: 'deliveries', method: 'GET', path: path(id, '/deliveries'), retry: true, signal: opts.signal });
    return answer.deliveries;
  }

  /**
   * Sends the task's latest outcome to its `webhookUrl` again, with the same `webhook-id` and a
   * fresh `webhookRetries`; 409 `conflict` unless it is completed or failed with a webhookUrl.
   * Safe to repeat (a receiver dedupes on `webhook-id`), so transient failures are retried.
   */
  async redeliver(id: string): Promise<Task> {
    return this.#r.request<Task>({ expect: 'id', method: 'POST', path: path(id, '/redeliver'), retry: true });
  }

  /** Re-delivers every completed or failed task matching `filter`, e.g. `{ webhookStatus: 'failed' }` after the receiver was down. */
  async redeliverMany(filter: RedeliverFilter): Promise<BulkResult> {
    return this.#r.request<BulkResult>({ expect: 'count', method: 'POST', path: '/v1/tasks/redeliver', body: filter, retry: true });
  }

  /** Why the task waits, when each remaining attempt would start if every attempt failed, and when it would give up (api.md §11). */
  async plan(id: string, opts: { signal?: AbortSignal } = {}): Promise<TaskPlan> {
    return this.#r.request<TaskPlan>({ method: 'GET', path: path(id, '/plan'), retry: true, signal: opts.signal });
  }

  /**
   * Completes the open attempt of an async task with `result` (api.md §10). Safe to repeat: the
   * same call again answers with the task unchanged; a call for an attempt that ended another
   * way throws AsyncQueueError `conflict` (409).
   */
  async complete(id: string, result: unknown, opts: CompletionOptions = {}): Promise<Task> {
    return this.#completion<Task>(id, 'complete', { result: result === undefined ? null : result, attempt: opts.attempt }, opts);
  }

  /** Fails the open attempt of an async task: retried by its backoff while retries remain, unless `retry` is false. */
  async fail(id: string, message: string, opts: CompletionOptions & { retry?: boolean } = {}): Promise<Task> {
    return this.#completion<Task>(id, 'fail', { message, retry: opts.retry ?? true, attempt: opts.attempt }, opts);
  }

  /** Keeps the open attempt of an async task alive; returns its new deadline (ISO). */
  async heartbeat(id: string, opts: CompletionOptions = {}): Promise<{ deadline: string }> {
    return this.#completion<{ deadline: string }>(id, 'heartbeat', { attempt: opts.attempt }, opts);
  }

  #completion<T>(id: string, action: string, body: Record<string, unknown>, opts: CompletionOptions): Promise<T> {
    if (body.attempt === undefined) delete body.attempt;
    return this.#r.request<T>({
      method: 'POST', path: path(id, '/' + action), body, retry: true, signal: opts.signal,
      headers: opts.token ? { authorization: `Bearer ${opts.token}` } : undefined,
    });
  }

  /** Cancels a pending or running task (a running attempt is aborted); 409 `conflict` if it is already terminal. */
  async cancel(id: string): Promise<Task> {
    return this.#r.request<Task>({ expect: 'id', method: 'POST', path: path(id, '/cancel') });
  }

  /** Makes a failed or cancelled task pending again with a fresh set of retries; 409 `conflict` otherwise. */
  async retry(id: string): Promise<Task> {
    return this.#r.request<Task>({ expect: 'id', method: 'POST', path: path(id, '/retry') });
  }

  /** Deletes a task and its attempts; a running task is cancelled first. */
  async delete(id: string): Promise<void> {
    await this.#r.request<void>({ method: 'DELETE', path: path(id) });
  }

  /** Cancels every pending or running task matching `filter` (at least one field). */
  async cancelMany(filter: BulkFilter): Promise<BulkResult> {
    return this.#r.request<BulkResult>({ expect: 'count', method: 'POST', path: '/v1/tasks/cancel', body: filter });
  }

  /** Retries every failed or cancelled task matching `filter` (at least one field), e.g. `{ status: 'failed', queue }`. */
  async retryMany(filter: BulkFilter): Promise<BulkResult> {
    return this.#r.request<BulkResult>({ expect: 'count', method: 'POST', path: '/v1/tasks/retry', body: filter });
  }
}

function randomKey(): string {
  return `aq_${globalThis.crypto.randomUUID()}`;
}
