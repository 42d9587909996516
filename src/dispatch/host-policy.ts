// Per-origin protection of api.md §12, pure: the circuit breaker and the adaptive limit as
// functions of (state, outcome, now). hosts.ts keeps one state per origin and applies them; the
// tests are tables (test/unit/host-policy.test.ts).
import type { AttemptOutcome } from './outcome.js';

/** Cooldown of a circuit that opens, doubling while probes fail, at most MAX_OPEN_MS (api.md §12). */
export const FIRST_OPEN_MS = 30_000;
export const MAX_OPEN_MS = 600_000;
/** Successes that add one to a lowered limit (api.md §12). */
export const SUCCESSES_PER_STEP = 50;
/** A Retry-After on 429/503 delays the origin's next start by at most this much (ms): a hostile 999999 cannot park an origin for days. */
export const MAX_HOST_DELAY_MS = MAX_OPEN_MS;

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface HostPolicy {
  /** Failures in a row that open the circuit; 0 turns the breaker off (--breaker-failures, default 20). */
  breakerFailures: number;
  /** Highest limit of one origin; null = only the global concurrency (--host-concurrency). */
  hostConcurrency: number | null;
  /** The global concurrency: a limit that climbs back to it (with no --host-concurrency) is lifted. */
  globalConcurrency: number;
}

export interface HostState {
  state: CircuitState;
  consecutiveFailures: number;
  /** While open: when the next probe may start (ms). */
  openUntil: number | null;
  /** The cooldown the circuit opens for next time it opens from half_open (ms). */
  cooldownMs: number;
  /** In half_open: a probe is in flight. */
  probing: boolean;
  /** Attempts in flight to the origin on this node. */
  inFlight: number;
  /** Max attempts in flight after a 429/503; null = no limit of its own. */
  limit: number | null;
  /** Successes since the limit last moved. */
  successes: number;
  /** No start before this (ms): a Retry-After of a 429/503. */
  notBefore: number | null;
}

export function freshHost(): HostState {
  return { state: 'closed', consecutiveFailures: 0, openUntil: null, cooldownMs: FIRST_OPEN_MS, probing: false, inFlight: 0, limit: null, successes: 0, notBefore: null };
}

/** How an attempt's outcome counts for its origin. */
export type HostOutcome =
  /** Network error, timeout, 429 or 502–504: counts toward opening the circuit. */
  | { kind: 'failure'; throttled: boolean; retryAfterMs?: number }
  /** Any other answer: the origin is up (a 4xx or 500 is the target's own verdict). */
  | { kind: 'success'; throttled: boolean; retryAfterMs?: number }
  /** Cancelled, interrupted, refused by the outbound policy: says nothing about the origin. */
  | { kind: 'neutral' };

/** Classifies an attempt's outcome; `retryAfterMs` is the parsed Retry-After of the answer (for 429/503 only). */
export function hostOutcome(o: AttemptOutcome, retryAfterMs: number | undefined): HostOutcome {
  if (o.kind === 'error') {
    if (o.error.type === 'network' || o.error.type === 'timeout') return { kind: 'failure', throttled: false };
    return { kind: 'neutral' };
  }
  const throttled = o.status === 429 || o.status === 503;
  const ra = throttled && retryAfterMs !== undefined ? { retryAfterMs } : {};
  if (o.status === 429 || (o.status >= 502 && o.status <= 504)) return { kind: 'failure', throttled, ...ra };
  return { kind: 'success', throttled, ...ra };
}

/** Whether an attempt to the origin may start at `now`. */
export type Admission =
  | { ok: true; probe: boolean }
  | { ok: false; reason: 'open' | 'limit' | 'retry_after'; until: number | null };

/** The limit in force: the origin's own, capped by --host-concurrency. */
export function effectiveLimit(s: HostState, p: HostPolicy): number {
  return Math.min(s.limit ?? Infinity, p.hostConcurrency ?? Infinity);
}

/** May an attempt start now? An open circuit past its cooldown admits one probe (half_open). */
export function admit(s: HostState, p: HostPolicy, now: number): Admission {
  if (p.breakerFailures > 0) {
    if (s.state === 'open' && s.openUntil !== null && now < s.openUntil) return { ok: false, reason: 'open', until: s.openUntil };
    if (s.state === 'half_open' && s.probing) return { ok: false, reason: 'open', until: null };
  }
  if (s.notBefore !== null && now < s.notBefore) return { ok: false, reason: 'retry_after', until: s.notBefore };
  if (s.inFlight >= effectiveLimit(s, p)) return { ok: false, reason: 'limit', until: null };
  return { ok: true, probe: p.breakerFailures > 0 && s.state !== 'closed' };
}

/** The state after an admitted start (a probe moves an open circuit to half_open). */
export function started(s: HostState, probe: boolean): HostState {
  return probe ? { ...s, state: 'half_open', probing: true, inFlight: s.inFlight + 1 } : { ...s, inFlight: s.inFlight + 1 };
}

/** What a finished attempt changed about the circuit, for the log lines of api.md §12. */
export type CircuitChange = 'opened' | 'reopened' | 'closed' | null;

/**
 * The state after an attempt started with `probe` ended with `o` at `now`. Breaker: failures in
 * a row open the circuit for the cooldown; a failed probe reopens it for twice as long (at most
 * MAX_OPEN_MS); any probe that does not fail that way closes it. Limit: a 429/503 halves the
 * origin's concurrency (--host-concurrency, else the global one, when it had no limit), down to 1; each
 * SUCCESSES_PER_STEP successes add one back, and a limit that reaches the cap is lifted.
 */
export function finished(s: HostState, o: HostOutcome, probe: boolean, p: HostPolicy, now: number): { state: HostState; change: CircuitChange } {
  let next: HostState = { ...s, inFlight: Math.max(0, s.inFlight - 1) };
  if (probe) next.probing = false;
  if (o.kind === 'neutral') {
    // a cancelled probe proves nothing: the circuit may probe again at once
    if (probe && next.state === 'half_open') next = { ...next, state: 'open', openUntil: now };
    return { state: next, change: null };
  }
  let change: CircuitChange = null;
  if (o.throttled) {
    // an origin without a limit of its own runs at --host-concurrency, else at the global concurrency (api.md §12)
    const base = s.limit ?? p.hostConcurrency ?? p.globalConcurrency;
    next.limit = Math.max(1, Math.floor(base / 2));
    next.successes = 0;
    if (o.retryAfterMs !== undefined && o.retryAfterMs > 0) {
      const until = now + Math.min(o.retryAfterMs, MAX_HOST_DELAY_MS);
      next.notBefore = Math.max(next.notBefore ?? 0, until);
    }
  } else if (o.kind === 'success' && next.limit !== null) {
    next.successes++;
    if (next.successes >= SUCCESSES_PER_STEP) {
      next.successes = 0;
      next.limit++;
      if (next.limit >= (p.hostConcurrency ?? p.globalConcurrency)) next.limit = null;
    }
  }
  if (p.breakerFailures <= 0) return { state: { ...next, consecutiveFailures: o.kind === 'failure' ? next.consecutiveFailures + 1 : 0 }, change };
  if (o.kind === 'failure') {
    next.consecutiveFailures++;
    if (probe && s.state === 'half_open') {
      const cooldownMs = Math.min(MAX_OPEN_MS, s.cooldownMs * 2);
      next = { ...next, state: 'open', openUntil: now + cooldownMs, cooldownMs };
      change = 'reopened';
    } else if (next.state === 'closed' && next.consecutiveFailures >= p.breakerFailures) {
      next = { ...next, state: 'open', openUntil: now + FIRST_OPEN_MS, cooldownMs: FIRST_OPEN_MS };
      change = 'opened';
    }
  } else {
    next.consecutiveFailures = 0;
    if (probe && s.state === 'half_open') {
      next = { ...next, state: 'closed', openUntil: null, cooldownMs: FIRST_OPEN_MS };
      change = 'closed';
    }
  }
  return { state: next, change };
}

/** The origin (`scheme://host:port`, default ports left out as URL does) of an absolute URL; undefined when it is not one. */
export function originOf(url: string): string | undefined {
  try {
    const u = new URL(url);
    return u.origin === 'null' ? undefined : u.origin;
  } catch {
    return undefined;
  }
}
