// Parses a `Retry-After` header (RFC 9110 §10.2.3): delay-seconds or an HTTP-date. Pure.

/** The delay in ms the header asks for at time `now` (ms), or undefined when absent or malformed. */
export function parseRetryAfter(value: string | undefined | null, now: number): number | undefined {
  if (value === undefined || value === null) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  if (!/[a-z]/i.test(v)) return undefined;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
