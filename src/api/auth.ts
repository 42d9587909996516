// Bearer-token check for every route but /healthz when the server has tokens (api.md §3).
// Compared in constant time; several tokens may be valid at once (rotation).
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (s: string) => createHash('sha256').update(s).digest();

/** A checker for `tokens`; with none, everything is allowed. */
export function tokenChecker(tokens: string[]): (given: string | undefined) => boolean {
  const digests = tokens.map(digest);
  return (given) => {
    if (digests.length === 0) return true;
    if (!given) return false;
    const d = digest(given);
    let ok = false;
    for (const t of digests) if (timingSafeEqual(t, d)) ok = true;
    return ok;
  };
}

/** The token of an `Authorization: Bearer <token>` header, if any. */
export function bearer(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}
