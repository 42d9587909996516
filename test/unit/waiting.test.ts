// waitingFor (api.md §11) as a table: which reason a pending task gets from the queue and slot
// snapshot at `now`, in the order pause, time, queue concurrency, blockers, rate, global, ready.
import { describe, expect, it } from 'vitest';
import { clockTime, waitingFor, type QueueSnapshot, type WaitingContext, type WaitingTask } from '../../src/dispatch/waiting.js';

const NOW = Date.parse('2026-12-01T14:00:00.000Z');
const task: WaitingTask = { queue: 'q', status: 'pending', runAt: NOW, attempts: 0, attemptsBase: 0, retries: 5, error: null };
const free: QueueSnapshot = { paused: false, concurrency: null, inFlight: 0, ratePerSecond: null };
const ctx = (q: Partial<QueueSnapshot> = {}, global = { concurrency: 100, inFlight: 0 }): WaitingContext => ({ queues: new Map([['q', { ...free, ...q }]]), global });
const http503 = { type: 'http' as const, status: 503, message: 'HTTP 503' };

describe('waitingFor', () => {
  it.each([
    ['due in a free queue', {}, ctx(), 'ready', undefined],
    ['a queue with no row yet (no limits of its own)', { queue: 'new' }, ctx(), 'ready', undefined],
    ['runAt ahead, never attempted', { runAt: NOW + 61_000 }, ctx(), 'scheduled', '2026-12-01T14:01:01.000Z'],
    ['runAt ahead after a failure', { runAt: NOW + 2_000, attempts: 3, error: http503 }, ctx(), 'backoff', '2026-12-01T14:00:02.000Z'],
    ['runAt ahead after a manual retry (no failure of this run yet)', { runAt: NOW + 2_000, attempts: 3, attemptsBase: 3 }, ctx(), 'scheduled', '2026-12-01T14:00:02.000Z'],
    ['paused beats a runAt ahead', { runAt: NOW + 2_000 }, ctx({ paused: true }), 'queue_paused', undefined],
    ['queue concurrency full', {}, ctx({ concurrency: 2, inFlight: 2 }), 'queue_concurrency', undefined],
    ['queue concurrency with room', {}, ctx({ concurrency: 2, inFlight: 1 }), 'ready', undefined],
    ['rate tokens gone', {}, ctx({ ratePerSecond: 0.5, nextTokenAt: NOW + 1_500 }), 'queue_rate', '2026-12-01T14:00:01.500Z'],
    ['global concurrency full', {}, ctx({}, { concurrency: 4, inFlight: 4 }), 'global_concurrency', undefined],
    ['queue concurrency beats global', {}, ctx({ concurrency: 1, inFlight: 1 }, { concurrency: 1, inFlight: 1 }), 'queue_concurrency', undefined],
    ['a running task has none', { status: 'running' as const }, ctx({ paused: true }), null, undefined],
  ] as const)('%s → %s', (_t, over, c, reason, until) => {
    const w = waitingFor({ ...task, ...over }, c, NOW);
    expect(w?.reason ?? null).toBe(reason);
    expect(w?.until).toBe(until);
  });

  it('says the retry, the failure and the time in words', () => {
    const w = waitingFor({ ...task, runAt: Date.parse('2026-12-01T14:02:11Z'), attempts: 3, error: http503 }, ctx(), NOW);
    expect(w!.message).toBe('retry 3 of 5 after HTTP 503; not before 14:02:11 UTC');
    expect(waitingFor({ ...task, runAt: NOW + 86_400_000 }, ctx(), NOW)!.message).toBe('scheduled; not before 2026-12-02 14:00:00 UTC');
  });

  it('a blocker is consulted after queue concurrency and before the rate limit', () => {
    const blocked = () => ({ reason: 'host_circuit_open' as const, message: 'open' });
    expect(waitingFor(task, ctx({ ratePerSecond: 1, nextTokenAt: NOW + 5 }), NOW, [blocked])!.reason).toBe('host_circuit_open');
    expect(waitingFor(task, ctx({ concurrency: 1, inFlight: 1 }), NOW, [blocked])!.reason).toBe('queue_concurrency');
    expect(waitingFor(task, ctx(), NOW, [() => undefined])!.reason).toBe('ready');
  });

  it('clockTime shows the date only for another day', () => {
    expect(clockTime(NOW + 5_000, NOW)).toBe('14:00:05 UTC');
    expect(clockTime(NOW - 86_400_000, NOW)).toBe('2026-11-30 14:00:00 UTC');
  });
});
