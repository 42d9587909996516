// Text as the client sent it, byte for byte: request bodies must be valid UTF-8 (RFC 8259 §8.1),
// and header values are re-read as UTF-8 (Node hands them over as Latin-1, so a UTF-8
// Idempotency-Key would otherwise never match the same key sent in a JSON body).
import type { MiddlewareHandler } from 'hono';
import { ApiError } from './errors.js';

const fatal = new TextDecoder('utf-8', { fatal: true });

/** `bytes` decoded as UTF-8, or undefined when they are not valid UTF-8 (no silent U+FFFD). */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return fatal.decode(bytes);
  } catch {
    return undefined;
  }
}

/** A header value (Latin-1 as Node gives it) read as the UTF-8 its bytes are; undefined if they are not. */
export function headerText(value: string): string | undefined {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(value)) return value;
  return decodeUtf8(Buffer.from(value, 'latin1'));
}

/**
 * Reads a JSON request body once, refusing invalid UTF-8 with 400, and leaves the text where
 * `c.req.json()` (and the validators) find it. Runs after the body-size limit.
 */
export const utf8Body: MiddlewareHandler = async (c, next) => {
  const m = c.req.method;
  if ((m === 'POST' || m === 'PUT' || m === 'PATCH') && c.req.raw.body !== null) {
    const text = decodeUtf8(new Uint8Array(await c.req.arrayBuffer()));
    if (text === undefined) throw new ApiError(400, 'invalid_request', 'the request body is not valid UTF-8');
    c.req.bodyCache = { text: Promise.resolve(text) } as unknown as typeof c.req.bodyCache;
  }
  return next();
};
