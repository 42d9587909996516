// QStash's `Upstash-Signature` (api.md §14): an HS256 JWT over the destination URL and the
// SHA-256 of the body, keyed with the current signing key, as the official SDK's `Receiver`
// verifies it. Also the signing keys' own format and generation.
import { createHash, createHmac, randomBytes } from 'node:crypto';

/** Seconds a signature stays valid after it is made (QStash: 5 minutes). */
export const QSTASH_SIGNATURE_TTL_SECONDS = 300;

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** A new signing key in QStash's form: `sig_` and 28 random base58-like characters. */
export function generateQstashSigningKey(): string {
  const alphabet = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
  const bytes = randomBytes(28);
  let s = 'sig_';
  for (const b of bytes) s += alphabet[b % alphabet.length];
  return s;
}

/** True for a key `--qstash-*-signing-key` accepts: 16–128 printable characters without spaces. */
export function isQstashSigningKey(key: string): boolean {
  return /^[\x21-\x7e]{16,128}$/.test(key);
}

export interface QstashClaims {
  /** The URL the request goes to (the Receiver's `url` check compares it). */
  url: string;
  body: string | Buffer;
  /** Unix seconds. */
  now: number;
}

/**
 * The JWT for `Upstash-Signature`: `{"alg":"HS256","typ":"JWT"}` and claims `iss` "Upstash",
 * `sub` the URL, `iat`/`nbf` now, `exp` now + 5 min, a random `jti`, and `body` = base64url of
 * the body's SHA-256. `key` is used as its UTF-8 bytes, as the SDK does.
 */
export function signQstash(key: string, c: QstashClaims): string {
  const header = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const payload = b64url(
    JSON.stringify({
      iss: 'Upstash', sub: c.url, exp: c.now + QSTASH_SIGNATURE_TTL_SECONDS, nbf: c.now, iat: c.now,
      jti: 'jwt_' + randomBytes(12).toString('hex'), body: createHash('sha256').update(c.body).digest('base64url'),
    }),
  );
  const sig = createHmac('sha256', Buffer.from(key, 'utf8')).update(`${header}.${payload}`).digest('base64url');
  return `${header}.${payload}.${sig}`;
}
