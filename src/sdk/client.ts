// The AsyncQueue client: options and their defaults in one place, and the resource objects
// (`tasks`, `queues`) sharing one Requester. Talks HTTP only; loads no server code.
import type { ClusterNodeView, Stats, TaskEvent } from '../shared/types.js';
import { BatchesResource } from './batches.js';
import { ClockResource, SinkResource } from './dev.js';
import { taskEvents, type EventsOptions } from './events.js';
import { HostsResource } from './hosts.js';
import { QueuesResource } from './queues.js';
import { SchedulesResource } from './schedules.js';
import { parseTask, parseWebhook, type IncomingRequest, type ReceiveOptions, type ReceivedTask, type ReceivedWebhook } from './receive.js';
import { Requester } from './request.js';
import { TasksResource } from './tasks.js';
import { TransferResource } from './transfer.js';

/** The server a client talks to when neither `url` nor `AQ_URL` says otherwise. */
export const DEFAULT_URL = 'http://127.0.0.1:8700';

/** Options of `new AsyncQueue()`. */
export interface AsyncQueueOptions {
  /** Base URL of the server (default `AQ_URL`, else http://127.0.0.1:8700). */
  url?: string;
  /** Bearer token (default `AQ_TOKEN`, else none). */
  token?: string;
  /** Seconds a request may take before failing with code `timeout` (default 30); `wait` long-polls get their wait on top. */
  timeout?: number;
  /** Retries of a transient failure (refused connection, 502, 503, 504) for calls safe to repeat (default 3). */
  retries?: number;
  /**
   * The fetch implementation (default the global `fetch`, which keeps connections open between
   * calls: in Node.js for as long as the server's `Keep-Alive` allows, 65 s with AsyncQueue).
   */
  fetch?: typeof fetch;
  /**
   * Node.js only: an undici `Agent` (or any dispatcher) the requests go through, to size the
   * connection pool or keep-alive yourself, e.g. `new Agent({ connections: 16, keepAliveTimeout: 60_000 })`.
   */
  dispatcher?: unknown;
  /**
   * The signing secret `receive()` and `receiveWebhook()` verify with (default `AQ_SIGNING_SECRET`,
   * else fetched once from the server's `GET /v1/signing-secret`).
   */
  signingSecret?: string;
}

function env(name: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  return value === '' ? undefined : value;
}

/**
 * A client of one AsyncQueue server.
 *
 * ```ts
 * const aq = new AsyncQueue({ url: "http://127.0.0.1:8700", token });
 * const task = await aq.tasks.create({ targetUrl, payload });
 * const done = await aq.tasks.waitFor(task.id);
 * ```
 */
export class AsyncQueue {
  /** Create, read, wait for, list, cancel, retry and delete tasks. */
  readonly tasks: TasksResource;
  /** List queues and change their limits. */
  readonly queues: QueuesResource;
  /** Read a batch's counts and wait until it is done (api.md §13). */
  readonly batches: BatchesResource;
  /** Target origins and their circuit breakers (api.md §12). */
  readonly hosts: HostsResource;
  /** Recurring tasks from cron: list, get, upsert, update, pause, resume, delete, trigger. */
  readonly schedules: SchedulesResource;
  /** What the request sink of `serve --dev` received (api.md §15). */
  readonly sink: SinkResource;
  /** The server's clock; `advance()` moves it with `serve --dev --clock virtual`. */
  readonly clock: ClockResource;
  /** Backup, export and import (api.md §15). */
  readonly transfer: TransferResource;
  /** The base URL this client talks to. */
  readonly url: string;
  readonly #r: Requester;
  #secret: Promise<string> | undefined;

  constructor(opts: AsyncQueueOptions = {}) {
    const fetchImpl = opts.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new TypeError('AsyncQueue needs a fetch implementation: pass { fetch }');
    this.#r = new Requester({
      url: opts.url ?? env('AQ_URL') ?? DEFAULT_URL,
      token: opts.token ?? env('AQ_TOKEN'),
      timeout: opts.timeout ?? 30,
      retries: opts.retries ?? 3,
      fetch: fetchImpl,
      dispatcher: opts.dispatcher,
    });
    this.url = this.#r.baseUrl;
    const secret = opts.signingSecret ?? env('AQ_SIGNING_SECRET');
    if (secret) this.#secret = Promise.resolve(secret);
    this.tasks = new TasksResource(this.#r);
    this.queues = new QueuesResource(this.#r);
    this.batches = new BatchesResource(this.#r);
    this.hosts = new HostsResource(this.#r);
    this.schedules = new SchedulesResource(this.#r);
    this.sink = new SinkResource(this.#r);
    this.clock = new ClockResource(this.#r);
    this.transfer = new TransferResource(this.#r);
  }

  /** Counts by state and queue, attempts in flight, and per-minute throughput over the last hour. */
  /** The nodes sharing the server's database, their heartbeats and the leader (api.md §9; one node with SQLite). */
  async cluster(opts: { signal?: AbortSignal } = {}): Promise<{ nodes: ClusterNodeView[] }> {
    return this.#r.request<{ nodes: ClusterNodeView[] }>({ method: 'GET', path: '/v1/cluster', retry: true, signal: opts.signal });
  }

  async stats(opts: { signal?: AbortSignal } = {}): Promise<Stats> {
    return this.#r.request<Stats>({ expect: 'counts', method: 'GET', path: '/v1/stats', retry: true, signal: opts.signal });
  }

  /**
   * The secret the server signs every dispatch and webhook with (`GET /v1/signing-secret`), and
   * whether it came from `--signing-secret` (`config`) or was generated into the database.
   */
  async signingSecret(opts: { signal?: AbortSignal } = {}): Promise<{ secret: string; source: 'config' | 'database' }> {
    return this.#r.request({ expect: 'secret', method: 'GET', path: '/v1/signing-secret', retry: true, signal: opts.signal });
  }

  /** The secret to verify with: the option, AQ_SIGNING_SECRET, or the server's (asked once; asked again after a failure). */
  #verifyingSecret(): Promise<string> {
    this.#secret ??= this.signingSecret().then(
      (s) => s.secret,
      (err: unknown) => {
        this.#secret = undefined;
        throw err;
      },
    );
    return this.#secret;
  }

  /**
   * Verifies and parses a request AsyncQueue sent to your target (the worker side), from a web
   * Request (Hono `c.req`, Next.js) or a Node request (node:http, Express with `express.raw()`):
   * `const { payload, taskId, attempt } = await aq.receive<ReportJob>(req)`.
   * Throws a ReceiveError (answer its `status`: 401 or 400) when the request is not genuine.
   */
  async receive<TPayload = unknown>(request: IncomingRequest, opts: ReceiveOptions = {}): Promise<ReceivedTask<TPayload>> {
    return parseTask<TPayload>(request, await this.#verifyingSecret(), opts);
  }

  /**
   * Verifies and parses an outcome webhook: `const hook = await aq.receiveWebhook<Report, ReportJob>(req)`.
   * Narrow on `hook.status`: `result` is null when the task `failed`. Dedupe on `hook.webhookId`.
   */
  async receiveWebhook<TResult = unknown, TPayload = unknown>(request: IncomingRequest, opts: ReceiveOptions = {}): Promise<ReceivedWebhook<TResult, TPayload>> {
    return parseWebhook<TResult, TPayload>(request, await this.#verifyingSecret(), opts);
  }

  /** `GET /healthz`: resolves `{ ok: true }` when the server and its store answer; throws otherwise. */
  async health(opts: { signal?: AbortSignal } = {}): Promise<{ ok: boolean }> {
    return this.#r.request<{ ok: boolean }>({ expect: 'ok', method: 'GET', path: '/healthz', retry: true, signal: opts.signal });
  }

  /**
   * Live task state changes from `GET /v1/events`, as an async iterator. Ends when `signal`
   * aborts or the server closes the stream.
   */
  events(opts: EventsOptions = {}): AsyncGenerator<TaskEvent> {
    return taskEvents(this.#r, opts);
  }
}
