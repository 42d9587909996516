// The SDK's `verifySignature`: the shared Standard Webhooks check, plus a guard that an
// empty or undecodable secret (e.g. an unset variable) never verifies anything.
import { decodeSecret, verifySignature as verifyShared, type VerifyOptions } from '../shared/signing.js';

export type { VerifyOptions };

/**
 * True when the request carries a valid AsyncQueue (Standard Webhooks) signature:
 * `webhook-signature` matches HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>`
 * under `secret` (`whsec_…`), compared in constant time, and `webhook-timestamp` is within
 * `tolerance` seconds of now (default 300). Pass the raw body, exactly as received.
 * Never throws; false for any missing or malformed part.
 */
export function verifySignature(opts: VerifyOptions): boolean {
  if (typeof opts?.secret !== 'string') return false;
  let key: Buffer;
  try {
    key = decodeSecret(opts.secret);
  } catch {
    return false;
  }
  if (key.length === 0) return false;
  return verifyShared(opts);
}
