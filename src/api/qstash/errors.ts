// Errors of the QStash-compatible API in QStash's own shape (api.md §14): `{"error": "…"}` with
// QStash's status codes. Anything unexpected is a 500, logged once, its details never sent.
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { Logger } from '../../log.js';
import { StoreUnavailableError } from '../../store/store.js';

export class QstashError extends Error {
  override name = 'QstashError';
  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string) => new QstashError(400, message);
export const notFound = (what: string) => new QstashError(404, `${what} not found`);

/** The `/v2` onError: QstashError as itself, store outages 503, Hono's 4xx kept, the rest 500. */
export function handleQstashError(err: Error, c: Context, log: Logger): Response {
  if (err instanceof QstashError) return c.json({ error: err.message }, err.status);
  if (err instanceof StoreUnavailableError) {
    log.warn('store unavailable', { err: err.message });
    c.header('Retry-After', '1');
    return c.json({ error: 'the store cannot write right now; nothing was stored, try again' }, 503);
  }
  if (err instanceof HTTPException && err.status >= 400 && err.status < 500) {
    return c.json({ error: err.status === 413 ? 'request body is too large' : err.message || 'bad request' }, err.status as ContentfulStatusCode);
  }
  log.error('unhandled error', { err, requestId: c.get('requestId' as never), path: c.req.path, method: c.req.method });
  return c.json({ error: 'internal error' }, 500);
}
