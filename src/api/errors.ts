// ApiError and the one place that turns any failure into the contract's error body
// (api.md §3: `{"error": {"code", "message", "details"?}}`). Unknown errors become a 500
// `internal`, logged once with their stack and never sent to the client.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from '../log.js';
import { StoreUnavailableError } from '../store/store.js';

/** Every code the API answers with (each one is produced somewhere; api.md §3). */
export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'unavailable'
  | 'not_supported'
  | 'internal';

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown[],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** 404 `not_found` naming what was missing: "task tsk_… not found". */
export const notFound = (what = 'task', id?: string) => new ApiError(404, 'not_found', id === undefined ? `${what} not found` : `${what} ${id} not found`);

export function errorBody(code: string, message: string, details?: unknown[]) {
  return details && details.length > 0 ? { error: { code, message, details } } : { error: { code, message } };
}

/** An error answer without a Hono context: status, body and the extra headers it needs. */
export interface ErrorAnswer {
  status: ContentfulStatusCode;
  body: ReturnType<typeof errorBody>;
  headers?: Record<string, string>;
}

/**
 * ApiError as itself, store outages as 503, Hono's own 4xx mapped, the rest 500 (logged once
 * with its stack and `where`, never sent). Shared by `onError` and the raw create path.
 */
export function errorAnswer(err: unknown, log: Logger, where: Record<string, unknown>): ErrorAnswer {
  if (err instanceof ApiError) {
    return { status: err.status, body: errorBody(err.code, err.message, err.details), headers: err.status === 503 ? { 'Retry-After': '1' } : undefined };
  }
  if (err instanceof StoreUnavailableError) {
    log.warn('store unavailable', { err: err.message });
    return { status: 503, body: errorBody('unavailable', 'the task store cannot write right now; nothing was stored, try again'), headers: { 'Retry-After': '1' } };
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    if (status === 413) return { status: 413, body: errorBody('payload_too_large', 'request body is too large') };
    if (status === 401) return { status: 401, body: errorBody('unauthorized', 'missing or invalid bearer token') };
    if (status >= 400 && status < 500) return { status: status as ContentfulStatusCode, body: errorBody('invalid_request', err.message || 'invalid request') };
  }
  log.error('unhandled error', { err, ...where });
  return { status: 500, body: errorBody('internal', 'internal error') };
}

/** Hono `onError`: see errorAnswer. */
export function handleError(err: Error, c: Context, log: Logger): Response {
  const a = errorAnswer(err, log, { requestId: c.get('requestId' as never), path: c.req.path, method: c.req.method });
  for (const k in a.headers) c.header(k, a.headers[k]);
  return c.json(a.body, a.status);
}
