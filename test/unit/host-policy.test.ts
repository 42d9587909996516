// The breaker and adaptive limit of api.md §12 (dispatch/host-policy.ts) as tables of
// (state, outcome, now) → state: no clock, no network.
import { describe, expect, it } from 'vitest';
import { admit, finished, FIRST_OPEN_MS, freshHost, hostOutcome, MAX_HOST_DELAY_MS, MAX_OPEN_MS, originOf, started, SUCCESSES_PER_STEP, type HostOutcome, type HostPolicy, type HostState } from '../../src/dispatch/host-policy.js';
import type { AttemptOutcome } from '../../src/dispatch/outcome.js';

const P: HostPolicy = { breakerFailures: 3, hostConcurrency: null, globalConcurrency: 100 };
const T = 1_000_000;
const FAIL: HostOutcome = { kind: 'failure', throttled: false };
const OK: HostOutcome = { kind: 'success', throttled: false };
const host = (over: Partial<HostState> = {}): HostState => ({ ...freshHost(), ...over });
const resp = (status: number, retryAfter?: string): AttemptOutcome => ({ kind: 'response', status, noRetry: false, retryAfter, resultJson: null, durationMs: 1 });

describe('hostOutcome', () => {
  const cases: [string, AttemptOutcome, number | undefined, HostOutcome][] = [
    ['a network error is a failure', { kind: 'error', error: { type: 'network', message: 'ECONNRESET' }, durationMs: 1 }, undefined, FAIL],
    ['a timeout is a failure', { kind: 'error', error: { type: 'timeout', message: 't' }, durationMs: 1 }, undefined, FAIL],
    ['a cancel says nothing', { kind: 'error', error: { type: 'cancelled', message: 'c' }, durationMs: 1 }, undefined, { kind: 'neutral' }],
    ['a refused address says nothing', { kind: 'error', error: { type: 'blocked', message: 'b' }, durationMs: 1 }, undefined, { kind: 'neutral' }],
    ['429 fails and throttles, with its Retry-After', resp(429, '5'), 5000, { kind: 'failure', throttled: true, retryAfterMs: 5000 }],
    ['502 fails', resp(502), undefined, FAIL],
    ['503 fails and throttles', resp(503), undefined, { kind: 'failure', throttled: true }],
    ['504 fails', resp(504), undefined, FAIL],
    ['500 is the target speaking: up', resp(500), undefined, OK],
    ['404 is up', resp(404), undefined, OK],
    ['200 is up; a Retry-After on it is ignored', resp(200, '9'), 9000, OK],
  ];
  for (const [name, o, ra, want] of cases) it(name, () => expect(hostOutcome(o, ra)).toEqual(want));
});

describe('breaker', () => {
  const cases: { name: string; s: HostState; o: HostOutcome; probe?: boolean; want: Partial<HostState>; change: string | null }[] = [
    { name: 'a failure below the threshold counts', s: host({ inFlight: 1, consecutiveFailures: 1 }), o: FAIL, want: { state: 'closed', consecutiveFailures: 2, inFlight: 0 }, change: null },
    { name: 'the threshold-th failure opens for 30 s', s: host({ inFlight: 1, consecutiveFailures: 2 }), o: FAIL, want: { state: 'open', openUntil: T + FIRST_OPEN_MS, consecutiveFailures: 3 }, change: 'opened' },
    { name: 'a success resets the count', s: host({ inFlight: 1, consecutiveFailures: 2 }), o: OK, want: { state: 'closed', consecutiveFailures: 0 }, change: null },
    { name: 'a failed probe reopens for twice as long', s: host({ state: 'half_open', probing: true, inFlight: 1, cooldownMs: FIRST_OPEN_MS, consecutiveFailures: 3 }), o: FAIL, probe: true, want: { state: 'open', openUntil: T + 2 * FIRST_OPEN_MS, cooldownMs: 2 * FIRST_OPEN_MS, probing: false }, change: 'reopened' },
    { name: 'the cooldown stops doubling at 10 minutes', s: host({ state: 'half_open', probing: true, inFlight: 1, cooldownMs: 480_000 }), o: FAIL, probe: true, want: { openUntil: T + MAX_OPEN_MS, cooldownMs: MAX_OPEN_MS }, change: 'reopened' },
    { name: 'a probe that does not fail that way closes it, cooldown back to 30 s', s: host({ state: 'half_open', probing: true, inFlight: 1, cooldownMs: 120_000, consecutiveFailures: 9 }), o: OK, probe: true, want: { state: 'closed', openUntil: null, cooldownMs: FIRST_OPEN_MS, consecutiveFailures: 0, probing: false }, change: 'closed' },
    { name: 'a cancelled probe lets the next probe go at once', s: host({ state: 'half_open', probing: true, inFlight: 1 }), o: { kind: 'neutral' }, probe: true, want: { state: 'open', openUntil: T, probing: false }, change: null },
    { name: 'a late failure of an attempt started before the opening keeps it open, unchanged', s: host({ state: 'open', openUntil: T + 5, inFlight: 1, consecutiveFailures: 3 }), o: FAIL, want: { state: 'open', openUntil: T + 5, consecutiveFailures: 4 }, change: null },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const r = finished(c.s, c.o, c.probe ?? false, P, T);
      expect(r.state).toMatchObject(c.want);
      expect(r.change).toBe(c.change);
    });
  }

  it('breaker-failures 0: never opens', () => {
    let s = host();
    for (let i = 0; i < 100; i++) s = finished(started(s, false), FAIL, false, { ...P, breakerFailures: 0 }, T).state;
    expect(s.state).toBe('closed');
    expect(admit(s, { ...P, breakerFailures: 0 }, T)).toEqual({ ok: true, probe: false });
  });
});

describe('admit', () => {
  const cases: { name: string; s: HostState; p?: Partial<HostPolicy>; now?: number; want: ReturnType<typeof admit> }[] = [
    { name: 'closed and idle: yes', s: host(), want: { ok: true, probe: false } },
    { name: 'open before its time: no, until the reopening', s: host({ state: 'open', openUntil: T + 10 }), want: { ok: false, reason: 'open', until: T + 10 } },
    { name: 'open at its time: one probe', s: host({ state: 'open', openUntil: T }), want: { ok: true, probe: true } },
    { name: 'half open with its probe in flight: no', s: host({ state: 'half_open', probing: true, inFlight: 1 }), want: { ok: false, reason: 'open', until: null } },
    { name: 'at its lowered limit: no', s: host({ limit: 2, inFlight: 2 }), want: { ok: false, reason: 'limit', until: null } },
    { name: 'at --host-concurrency: no', s: host({ inFlight: 4 }), p: { hostConcurrency: 4 }, want: { ok: false, reason: 'limit', until: null } },
    { name: 'before a Retry-After delay ends: no', s: host({ notBefore: T + 7 }), want: { ok: false, reason: 'retry_after', until: T + 7 } },
  ];
  for (const c of cases) it(c.name, () => expect(admit(c.s, { ...P, ...c.p }, c.now ?? T)).toEqual(c.want));
});

describe('adaptive limit', () => {
  const T429: HostOutcome = { kind: 'failure', throttled: true };
  const cases: { name: string; s: HostState; o: HostOutcome; p?: Partial<HostPolicy>; want: Partial<HostState> }[] = [
    { name: 'a first 429 halves the global concurrency (the origin had no limit of its own)', s: host({ inFlight: 8 }), o: T429, want: { limit: 50, successes: 0 } },
    { name: 'a 429 halves a limit', s: host({ inFlight: 3, limit: 6 }), o: T429, want: { limit: 3 } },
    { name: 'never below 1', s: host({ inFlight: 1, limit: 1 }), o: T429, want: { limit: 1 } },
    { name: 'a first 503 halves --host-concurrency when set', s: host({ inFlight: 10 }), o: { kind: 'failure', throttled: true }, p: { hostConcurrency: 4 }, want: { limit: 2 } },
    { name: 'a success counts toward a step', s: host({ inFlight: 1, limit: 2, successes: 3 }), o: OK, want: { limit: 2, successes: 4 } },
    { name: `the ${SUCCESSES_PER_STEP}th success adds one`, s: host({ inFlight: 1, limit: 2, successes: SUCCESSES_PER_STEP - 1 }), o: OK, want: { limit: 3, successes: 0 } },
    { name: 'climbing to --host-concurrency lifts the limit', s: host({ inFlight: 1, limit: 4, successes: SUCCESSES_PER_STEP - 1 }), o: OK, p: { hostConcurrency: 5 }, want: { limit: null } },
    { name: 'Retry-After on a 429 delays the next start', s: host({ inFlight: 1 }), o: { kind: 'failure', throttled: true, retryAfterMs: 2000 }, want: { notBefore: T + 2000 } },
    { name: 'a hostile Retry-After is capped at 10 minutes', s: host({ inFlight: 1 }), o: { kind: 'failure', throttled: true, retryAfterMs: 999_999_000 }, want: { notBefore: T + MAX_HOST_DELAY_MS } },
  ];
  for (const c of cases) it(c.name, () => expect(finished(c.s, c.o, false, { ...P, ...c.p }, T).state).toMatchObject(c.want));
});

describe('originOf', () => {
  it('is scheme://host:port with default ports left out, undefined for what is no URL', () => {
    expect(originOf('https://API.example.com:443/x?y')).toBe('https://api.example.com');
    expect(originOf('http://127.0.0.1:8080/a')).toBe('http://127.0.0.1:8080');
    expect(originOf('not a url')).toBeUndefined();
  });
});
