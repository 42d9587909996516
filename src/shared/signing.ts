// Standard Webhooks signing (https://www.standardwebhooks.com): what the dispatcher
// puts on every request (api.md §5) and what targets use to check it.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Default tolerance of `verifySignature` for the `webhook-timestamp` header, in seconds. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

const PREFIX = 'whsec_';

function secretBytes(secret: string): Buffer {
  const raw = secret.startsWith(PREFIX) ? secret.slice(PREFIX.length) : secret;
  return Buffer.from(raw, 'base64');
}

/** Makes a new random secret in the `whsec_<base64>` form (24 random bytes). */
export function generateSecret(): string {
  return PREFIX + randomBytes(24).toString('base64');
}

/** The `v1,<base64>` signature of `<id>.<timestamp>.<body>`; `timestamp` in unix seconds. */
export function sign(secret: string | Buffer, id: string, timestamp: number, body: string | Buffer): string {
  const key = typeof secret === 'string' ? secretBytes(secret) : secret;
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

/** Decodes a `whsec_…` secret once, for callers that sign many requests. */
export function decodeSecret(secret: string): Buffer {
  return secretBytes(secret);
}

/** A short, non-reversible fingerprint of a secret for bug reports: first 12 hex of its SHA-256 HMAC. */
export function secretFingerprint(secret: string): string {
  return createHmac('sha256', 'asyncqueue-fingerprint').update(secretBytes(secret)).digest('hex').slice(0, 12);
}

export interface VerifyOptions {
  /** The signing secret, `whsec_…`. */
  secret: string;
  /** The request headers (a Headers object or a plain object; names are case-insensitive). */
  headers: Headers | Record<string, string | string[] | undefined>;
  /** The raw request body, exactly as received. */
  body: string | Uint8Array;
  /** Max age of `webhook-timestamp`, in seconds (default 300). */
  tolerance?: number;
  /** Current time in ms (default Date.now()); for tests. */
  now?: number;
}

/** Header `name` (lower-case) from a Headers object or a plain object of any name case; the first value of an array. */
export function header(headers: VerifyOptions['headers'], name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const rec = headers as Record<string, string | string[] | undefined>;
  for (const key of Object.keys(rec)) {
    if (key.toLowerCase() === name) {
      const v = rec[key];
      return Array.isArray(v) ? v[0] : v;
    }
  }
  return undefined;
}

/**
 * Checks a request signed by AsyncQueue (or any Standard Webhooks sender): true when one of
 * the `webhook-signature` entries matches and the timestamp is within `tolerance` seconds.
 * Constant-time comparison; never throws for bad input.
 */
export function verifySignature(opts: VerifyOptions): boolean {
  const id = header(opts.headers, 'webhook-id');
  const ts = header(opts.headers, 'webhook-timestamp');
  const sigs = header(opts.headers, 'webhook-signature');
  if (!id || !ts || !sigs || !/^\d{1,12}$/.test(ts)) return false;
  const timestamp = Number(ts);
  const now = Math.floor((opts.now ?? Date.now()) / 1000);
  const tolerance = opts.tolerance ?? DEFAULT_TOLERANCE_SECONDS;
  if (Math.abs(now - timestamp) > tolerance) return false;
  let key: Buffer;
  try {
    key = secretBytes(opts.secret);
  } catch {
    return false;
  }
  // An empty secret (an unset variable) must never verify: anyone can sign with an empty key.
  if (key.length === 0) return false;
  const body = typeof opts.body === 'string' ? opts.body : Buffer.from(opts.body).toString('utf8');
  const expected = Buffer.from(sign(key, id, timestamp, body).slice(3), 'base64');
  let ok = false;
  for (const entry of sigs.split(' ')) {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const given = Buffer.from(value, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) ok = true;
  }
  return ok;
}
