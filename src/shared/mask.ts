// Credential masking for API answers and logs: header values that look like credentials are
// replaced, so tokens never leave the server in an answer. The dispatcher sends the real values;
// only what the API shows and the log writes is masked. Imports nothing (log.ts uses it too).

/** Header names that always carry credentials (lower-case). */
const CREDENTIAL_NAMES = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key']);
/** Any name containing one of these is treated as a credential. */
const CREDENTIAL_PART = /token|secret|key|passw(or)?d|auth|signature|credential|session|cookie/i;

/** Shown instead of a masked value shorter than MIN_HINT_LENGTH characters. */
export const MASKED = '[masked]';
/** Values at least this long show their last 4 characters after "••••" (at most a quarter of the value). */
export const MIN_HINT_LENGTH = 16;

/** True when a header (or log field) named `name` holds a credential. */
export function isCredentialName(name: string): boolean {
  let known = seen.get(name);
  if (known === undefined) {
    known = CREDENTIAL_NAMES.has(name.toLowerCase()) || CREDENTIAL_PART.test(name);
    // Names come from code (log fields) and from tasks' headers: bounded, so a flood of
    // distinct header names cannot grow it.
    if (seen.size >= 1024) seen.clear();
    seen.set(name, known);
  }
  return known;
}
const seen = new Map<string, boolean>();

/** "••••" + the last 4 characters for values of 16+ characters, else "[masked]". */
export function maskValue(value: string): string {
  return value.length >= MIN_HINT_LENGTH ? '••••' + value.slice(-4) : MASKED;
}

/** A copy of `headers` with every credential-looking value masked; other values unchanged. */
export function maskHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(headers)) out[k] = isCredentialName(k) ? maskValue(String(headers[k])) : headers[k]!;
  return out;
}

/** A task as the API shows it: its headers (and a QStash task's headers as sent) masked; works on any object with a `headers` record. */
export function maskTask<T extends { headers: Record<string, string>; qstash?: { sent: Record<string, string> } | null }>(task: T): T {
  const masked = { ...task, headers: maskHeaders(task.headers) };
  if (task.qstash) masked.qstash = { ...task.qstash, sent: maskHeaders(task.qstash.sent) };
  return masked;
}

/**
 * A copy of log fields with credential-named fields masked, at any depth (arrays and plain
 * objects; Errors and other class instances are left as they are). Bounded to 8 levels.
 */
export function maskFields(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (Array.isArray(value)) return value.map((v) => maskFields(v, depth + 1));
  if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) return value;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[k];
    out[k] = isCredentialName(k) ? maskLeaves(v, depth + 1) : v === null || typeof v !== 'object' ? v : maskFields(v, depth + 1);
  }
  return out;
}

/** Every string, number or boolean inside `value` masked (for a field whose name is a credential). */
function maskLeaves(value: unknown, depth: number): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value !== 'object') return maskValue(String(value));
  if (depth > 8) return MASKED;
  if (Array.isArray(value)) return value.map((v) => maskLeaves(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskLeaves(v, depth + 1)]));
}
