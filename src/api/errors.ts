// ApiError and the one place that turns any failure into the contract's error body
// (api.md §3: `{"error": {"code", "message", "details"?}}`). Unknown errors become a 500
// `internal`, logged once with their stack and never sent to the client.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from '../log.js';
import { StoreUnavailableError } from '../store/store.js';

export type ErrorCode =
  | 'invalid_request'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'method_not_allowed'
  | 'conflict'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'too_many_requests'
  | 'unavailable'
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

export const notFound = (what = 'task') => new ApiError(404, 'not_found', `${what} not found`);

export function errorBody(code: string, message: string, details?: unknown[]) {
  return details && details.length > 0 ? { error: { code, message, details } } : { error: { code, message } };
}

/** Hono `onError`: ApiError as itself, store outages as 503, Hono's own 4xx mapped, the rest 500. */
export function handleError(err: Error, c: Context, log: Logger): Response {
  if (err instanceof ApiError) {
    if (err.status === 503) c.header('Retry-After', '1');
    return c.json(errorBody(err.code, err.message, err.details), err.status);
  }
  if (err instanceof StoreUnavailableError) {
    log.warn('store unavailable', { err: err.message });
    c.header('Retry-After', '1');
    return c.json(errorBody('unavailable', 'the task store cannot write right now; nothing was stored, try again'), 503);
  }
  if (err instanceof HTTPException) {
    const status = err.status;
    if (status === 413) return c.json(errorBody('payload_too_large', 'request body is too large'), 413);
    if (status === 401) return c.json(errorBody('unauthorized', 'missing or invalid bearer token'), 401);
    if (status >= 400 && status < 500) return c.json(errorBody('invalid_request', err.message || 'invalid request'), status as ContentfulStatusCode);
  }
  log.error('unhandled error', { err, requestId: c.get('requestId' as never), path: c.req.path, method: c.req.method });
  return c.json(errorBody('internal', 'internal error'), 500);
}
