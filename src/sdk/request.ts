// The one requester every SDK resource goes through: URL and auth, JSON in and out,
// per-request timeout, error mapping to AsyncQueueError, and retries of transient failures
// for calls that are safe to repeat. Knows no routes; see tasks.ts and queues.ts.
import { AsyncQueueError } from './errors.js';

/** Statuses worth retrying: the server or a proxy in front of it is briefly unavailable. */
const TRANSIENT_STATUSES = new Set([502, 503, 504]);

/** Settings of a {@link Requester}; the client fills in the defaults. */
export interface RequesterOptions {
  /** Base URL of the server, without `/v1`. */
  url: string;
  /** Bearer token, if the server requires one. */
  token?: string;
  /** Seconds each request may take before it fails with code `timeout` (long-polls add their wait). */
  timeout: number;
  /** How many times a transient failure of a safe call is retried. */
  retries: number;
  /** The fetch implementation. */
  fetch: typeof fetch;
  /** Passed to fetch as `dispatcher` (Node.js: an undici Agent with its own pool and keep-alive). */
  dispatcher?: unknown;
}

/** One call: `path` is relative to the base URL, e.g. `/v1/tasks`. */
export interface RequestSpec {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  headers?: Record<string, string>;
  /** True when repeating the call cannot do harm (reads, idempotent writes, creates with an idempotency key). */
  retry?: boolean;
  /** A field every answer of this route has: one without it is not from AsyncQueue (code `bad_response`). */
  expect?: string;
  /** Extra seconds on top of the timeout, for `?wait=` long-polls. */
  extraTimeout?: number;
  signal?: AbortSignal;
}

/** Delay before retry n (1-based), in ms: 200, 400, 800, … capped at 5 s, with up to 25 % jitter. */
export function retryDelay(n: number, random: () => number = Math.random): number {
  const base = Math.min(5000, 200 * 2 ** (n - 1));
  return Math.round(base * (1 + random() * 0.25));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function describeCause(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
}

/** Sends requests to one AsyncQueue server. */
export class Requester {
  readonly baseUrl: string;
  readonly #opts: RequesterOptions;

  constructor(opts: RequesterOptions) {
    this.#opts = opts;
    this.baseUrl = opts.url.replace(/\/+$/, '');
  }

  /** The absolute URL of `path` with `query` (undefined values left out). */
  url(path: string, query?: RequestSpec['query']): string {
    const u = new URL(this.baseUrl + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  /** Sends one call (retrying when `spec.retry`) and returns its parsed JSON answer (undefined for 204). */
  async request<T>(spec: RequestSpec): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return (await this.send(spec)) as T;
      } catch (err) {
        const transient = err instanceof AsyncQueueError && (err.code === 'unreachable' || TRANSIENT_STATUSES.has(err.status));
        if (!spec.retry || !transient || attempt > this.#opts.retries) throw err;
        await sleep(retryDelay(attempt), spec.signal);
      }
    }
  }

  /**
   * Sends one call once; throws AsyncQueueError unless 2xx. Returns the Response with the
   * timeout still armed (call `done()` after reading the body), or disarmed for `stream`.
   */
  async open(spec: RequestSpec & { stream?: boolean }): Promise<{ res: Response; done: () => void; timedOut: () => boolean }> {
    const url = this.url(spec.path, spec.query);
    const headers: Record<string, string> = { accept: 'application/json', ...spec.headers };
    // A call may bring its own credential (a completion token, api.md §10).
    if (this.#opts.token && !headers.authorization) headers.authorization = `Bearer ${this.#opts.token}`;
    if (spec.body !== undefined) headers['content-type'] = 'application/json';
    const timeoutMs = (this.#opts.timeout + (spec.extraTimeout ?? 0)) * 1000;
    const ctrl = new AbortController();
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      ctrl.abort(new Error('timeout'));
    }, timeoutMs);
    const done = () => clearTimeout(timer);
    const signal = spec.signal ? AbortSignal.any([spec.signal, ctrl.signal]) : ctrl.signal;
    const fail = (err: unknown): never => {
      done();
      if (spec.signal?.aborted) throw spec.signal.reason;
      if (expired) throw new AsyncQueueError(0, 'timeout', `no answer from AsyncQueue at ${this.baseUrl} within ${timeoutMs / 1000} s`, { url, cause: err });
      throw new AsyncQueueError(0, 'unreachable', `cannot reach AsyncQueue at ${this.baseUrl} (${describeCause(err)})`, { url, cause: err });
    };
    let res: Response;
    try {
      const init: RequestInit & { dispatcher?: unknown } = { method: spec.method, headers, body: spec.body === undefined ? undefined : JSON.stringify(spec.body), signal };
      if (this.#opts.dispatcher !== undefined) init.dispatcher = this.#opts.dispatcher;
      res = await this.#opts.fetch(url, init);
    } catch (err) {
      return fail(err);
    }
    if (!res.ok) {
      const body = await readBody(res).catch(() => '');
      done();
      throw AsyncQueueError.fromResponse(res.status, body, url);
    }
    if (spec.stream) done();
    return { res, done, timedOut: () => expired };
  }

  /** Sends one call once (no retries) and returns its parsed JSON answer (undefined for 204 or an empty body). */
  async send(spec: RequestSpec): Promise<unknown> {
    const { res, done, timedOut } = await this.open(spec);
    let body: unknown;
    try {
      body = await readBody(res);
    } catch (err) {
      if (spec.signal?.aborted) throw spec.signal.reason;
      if (timedOut()) throw new AsyncQueueError(0, 'timeout', `AsyncQueue at ${this.baseUrl} stopped answering mid-response`, { url: res.url, cause: err });
      throw new AsyncQueueError(0, 'unreachable', `the connection to AsyncQueue at ${this.baseUrl} broke: ${describeCause(err)}`, { url: res.url, cause: err });
    } finally {
      done();
    }
    if (typeof body === 'string' && body !== '') {
      throw new AsyncQueueError(res.status, 'bad_response', `${this.baseUrl} does not look like AsyncQueue: ${spec.method} ${spec.path} answered ${JSON.stringify(body.slice(0, 80))}, not JSON (is the URL right?)`, { url: res.url });
    }
    if (spec.expect !== undefined && (body === null || typeof body !== 'object' || !(spec.expect in body))) {
      throw new AsyncQueueError(res.status, 'bad_response', `${this.baseUrl} does not look like AsyncQueue: its answer to ${spec.method} ${spec.path} has no "${spec.expect}" (is the URL right?)`, { url: res.url });
    }
    return body === '' ? undefined : body;
  }
}

/** The body as parsed JSON when it is JSON, else as text ('' when empty). Throws if reading fails. */
async function readBody(res: Response): Promise<unknown> {
  const text = await res.text();
  if (text === '') return '';
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
