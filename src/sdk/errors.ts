// The SDK's one error type, mirroring the server's error body (api.md §3), plus the
// error of a multi-batch import that stopped part-way. Network trouble gets status 0.
import type { ErrorBody, Task } from '../shared/types.js';

/** Error codes the SDK itself produces (the server's own codes pass through unchanged). */
export type ClientErrorCode = 'unreachable' | 'timeout' | 'bad_response';

/**
 * Every failure of an SDK call. `status` is the HTTP status (0 when no answer came back),
 * `code` the server's stable code (`invalid_request`, `not_found`, `conflict`, …) or one of
 * {@link ClientErrorCode}, `details` the server's field-level details, if any.
 */
export class AsyncQueueError extends Error {
  override name = 'AsyncQueueError';
  /** HTTP status, or 0 when the server could not be reached or did not answer in time. */
  readonly status: number;
  /** Stable machine-readable code. */
  readonly code: string;
  /** Extra details from the server, e.g. the failing field paths of a 400. */
  readonly details: unknown[] | undefined;
  /** The URL the failing request went to. */
  readonly url: string | undefined;

  constructor(status: number, code: string, message: string, opts: { details?: unknown[]; url?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.status = status;
    this.code = code;
    this.details = opts.details;
    this.url = opts.url;
  }

  /** Builds the error of a non-2xx answer from its (possibly non-JSON) body. */
  static fromResponse(status: number, body: unknown, url: string): AsyncQueueError {
    const err = (body as Partial<ErrorBody> | null)?.error;
    if (err && typeof err.code === 'string' && typeof err.message === 'string') {
      return new AsyncQueueError(status, err.code, err.message, { details: Array.isArray(err.details) ? err.details : undefined, url });
    }
    const text = typeof body === 'string' && body.trim() ? `: ${body.trim().slice(0, 200)}` : '';
    return new AsyncQueueError(status, `http_${status}`, `HTTP ${status} from ${url}${text}`, { url });
  }
}

/**
 * Thrown by `tasks.createMany` when one batch is refused. Batches are all-or-nothing, so
 * exactly the tasks before `offset` were created (they are in `created`); none from
 * `offset` on were. `index` is the position in the whole input of the task the server
 * named as invalid, when it named one.
 */
export class BatchError extends AsyncQueueError {
  override name = 'BatchError';
  /** Tasks created by the batches that succeeded before the failure. */
  readonly created: Task[];
  /** Input index of the first task of the refused batch. */
  readonly offset: number;
  /** Input index of the invalid task, when the server said which one. */
  readonly index: number | undefined;

  constructor(cause: AsyncQueueError, created: Task[], offset: number) {
    super(cause.status, cause.code, cause.message, { details: cause.details, url: cause.url, cause });
    this.created = created;
    this.offset = offset;
    const within = invalidIndex(cause);
    this.index = within === undefined ? undefined : offset + within;
  }
}

/** The index within a batch that a 400 names, from its details (`tasks.3.targetUrl`, `["tasks", 3]`) or message. */
export function invalidIndex(err: AsyncQueueError): number | undefined {
  const texts: string[] = [];
  for (const d of err.details ?? []) {
    if (typeof d === 'string') texts.push(d);
    else if (d && typeof d === 'object') {
      const rec = d as Record<string, unknown>;
      if (typeof rec.index === 'number') return rec.index;
      if (Array.isArray(rec.path)) texts.push(rec.path.join('.'));
      else if (typeof rec.path === 'string') texts.push(rec.path);
      if (typeof rec.field === 'string') texts.push(rec.field);
    }
  }
  texts.push(err.message);
  for (const t of texts) {
    const m = /tasks(?:\.|\[|\/)(\d+)/.exec(t) ?? /index (\d+)/.exec(t);
    if (m) return Number(m[1]);
  }
  return undefined;
}
