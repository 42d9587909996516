// Plain formatting for the dashboard's pages: times, durations, JSON, and masking of header
// values that look like credentials. Pure functions; `now` is an argument.

/** Header names whose values are never shown (Authorization, Cookie, *token*, *secret*, *key*, *password*, *auth*). */
const SECRET_HEADER = /authorization|cookie|token|secret|key|password|passwd|auth|session|signature/i;

/** The mask shown instead of a credential-like header value. */
export const MASK = '••••••••';

/** A copy of `headers` with credential-like values replaced by MASK. */
export function maskHeaders(headers: Record<string, string>): [string, string][] {
  return Object.entries(headers).map(([k, v]) => [k, SECRET_HEADER.test(k) ? MASK : v]);
}

/** An ISO time as "2025-01-31 14:05:09 UTC"; "—" for null. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

/** How long ago (or ahead) `iso` is from `now` (ms), e.g. "3 min ago", "in 2 h"; "" for null. */
export function relative(iso: string | null | undefined, now: number): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  const diff = Math.round((t - now) / 1000);
  const abs = Math.abs(diff);
  const span =
    abs < 5 ? null : abs < 60 ? `${abs} s` : abs < 3600 ? `${Math.floor(abs / 60)} min` : abs < 86400 ? `${Math.floor(abs / 3600)} h` : `${Math.floor(abs / 86400)} d`;
  if (span === null) return 'just now';
  return diff < 0 ? `${span} ago` : `in ${span}`;
}

/** A duration in ms as "840 ms", "2.4 s" or "3 min 5 s"; "running" for null. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return 'running';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Pretty-printed JSON for display (strings shown as JSON strings too), capped at `maxChars` (default 200 000). */
export function prettyJson(value: unknown, maxChars = 200_000): string {
  let text: string;
  try {
    text = JSON.stringify(value, null, 2) ?? 'null';
  } catch {
    text = String(value);
  }
  return text.length > maxChars ? `${text.slice(0, maxChars)}\n… (${text.length - maxChars} more characters)` : text;
}

/** Shortens `s` to `max` characters with an ellipsis. */
export function truncate(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** True for hosts that only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

/** A query string from the defined, non-empty entries of `params` ("" when none), e.g. "?status=failed". */
export function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
