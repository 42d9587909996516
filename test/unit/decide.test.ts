// decide.ts: what follows an attempt or a webhook delivery (api.md §5), as tables of
// (outcome, retry state, now, random) → decision. No clocks, no HTTP.
import { describe, expect, it } from 'vitest';
import { decideDelivery, decideNext, type RetryState } from '../../src/dispatch/decide.js';
import type { AttemptOutcome } from '../../src/dispatch/outcome.js';
import type { TaskError } from '../../src/shared/types.js';

const NOW = 1_700_000_000_000;
const REQ = { method: 'POST', url: 'http://127.0.0.1:9/work' };
const BACKOFF = { initial: 1, factor: 2, max: 60 };

function res(status: number, extra: Partial<Extract<AttemptOutcome, { kind: 'response' }>> = {}): AttemptOutcome {
  return { kind: 'response', status, noRetry: false, resultJson: null, durationMs: 5, ...extra };
}
function err(type: TaskError['type']): AttemptOutcome {
  return { kind: 'error', error: { type, message: `${type}: POST ${REQ.url}` }, durationMs: 5 };
}
const state = (attempt: number, extra: Partial<RetryState> = {}): RetryState => ({ attempt, attemptsBase: 0, retries: 3, backoff: BACKOFF, ...extra });

describe('decideNext', () => {
  it('a 2xx completes the task with its result', () => {
    expect(decideNext(res(200, { resultJson: '{"ok":true}' }), state(1), REQ, NOW, 0.5)).toEqual({
      next: { status: 'completed', resultJson: '{"ok":true}' },
      httpStatus: 200,
    });
    expect(decideNext(res(204), state(4), REQ, NOW, 0.5).next.status).toBe('completed');
  });

  it.each([
    // outcome, attempt, runAt offset (ms) with random 0.5 (no jitter)
    [res(503), 1, 1_000],
    [res(503), 2, 2_000],
    [res(503), 3, 4_000],
    [res(404), 1, 1_000],
    [res(401), 1, 1_000],
    [res(302), 1, 1_000],
    [err('timeout'), 2, 2_000],
    [err('network'), 1, 1_000],
  ])('%j on attempt %i is retried after %i ms', (outcome, attempt, delay) => {
    const d = decideNext(outcome, state(attempt), REQ, NOW, 0.5);
    expect(d.next).toMatchObject({ status: 'pending', runAt: NOW + delay });
    expect(d.error).toEqual((d.next as { error: TaskError }).error);
  });

  it('records the HTTP status and a message naming the request', () => {
    const d = decideNext(res(503, { errorBody: 'busy\n  now' }), state(1), REQ, NOW, 0.5);
    expect(d.httpStatus).toBe(503);
    expect(d.error).toEqual({ type: 'http', status: 503, message: 'HTTP 503 from POST http://127.0.0.1:9/work: busy now' });
  });

  it('an AQ-No-Retry failure says so in its error, so a user sees why retries were left unused', () => {
    expect(decideNext(res(422, { noRetry: true }), state(1), REQ, NOW, 0.5).error!.message).toMatch(/^HTTP 422 from POST .* \(not retried: the target answered AQ-No-Retry: true\)$/);
    expect(decideNext(res(500), state(4), REQ, NOW, 0.5).error!.message).not.toContain('AQ-No-Retry');
  });

  it.each([
    // outcome, state, why
    [res(500), state(4), 'retries + 1 attempts made'],
    [res(500), state(1, { retries: 0 }), 'no retries'],
    [res(400, { noRetry: true }), state(1), 'AQ-No-Retry: true'],
    [res(503, { noRetry: true, retryAfter: '1' }), state(1), 'AQ-No-Retry wins over Retry-After'],
    [err('cancelled'), state(1), 'a cancel'],
    [err('blocked'), state(1), 'a blocked target'],
    [err('timeout'), state(4), 'a timeout on the last attempt'],
  ])('%j fails the task (%s)', (outcome, s, _why) => {
    const d = decideNext(outcome, s, REQ, NOW, 0.5);
    expect(d.next.status).toBe('failed');
    expect((d.next as { error: TaskError }).error).toEqual(d.error);
  });

  it('counts retries from the last manual retry (attemptsBase)', () => {
    expect(decideNext(res(500), state(5, { attemptsBase: 4 }), REQ, NOW, 0.5).next).toMatchObject({ status: 'pending', runAt: NOW + 1_000 });
    expect(decideNext(res(500), state(8, { attemptsBase: 4 }), REQ, NOW, 0.5).next.status).toBe('failed');
  });

  it.each([
    // Retry-After, backoff, delay (ms)
    ['1', { initial: 0.01, factor: 2, max: 60 }, 1_000],
    ['100', { initial: 0.01, factor: 2, max: 0.2 }, 200],
    ['0', BACKOFF, 0],
    [new Date(NOW + 30_000).toUTCString(), BACKOFF, 30_000],
    [new Date(NOW - 30_000).toUTCString(), BACKOFF, 0],
    ['garbage', BACKOFF, 1_000],
  ])('Retry-After %j with backoff %j delays the retry by %i ms', (retryAfter, backoff, delay) => {
    const d = decideNext(res(503, { retryAfter }), state(1, { backoff }), REQ, NOW, 0.5);
    expect(d.next).toMatchObject({ status: 'pending', runAt: NOW + delay });
  });

  it('retries an interrupted attempt at once', () => {
    expect(decideNext(err('interrupted'), state(2), REQ, NOW, 0.9).next).toMatchObject({ status: 'pending', runAt: NOW });
  });

  it('an interruption never fails a task, even on its last attempt', () => {
    expect(decideNext(err('interrupted'), { ...state(4), retries: 3 }, REQ, NOW, 0.9).next).toMatchObject({ status: 'pending', runAt: NOW });
    expect(decideNext(err('timeout'), { ...state(4), retries: 3 }, REQ, NOW, 0.9).next).toMatchObject({ status: 'failed' });
  });

  it('jitter comes only from the random argument', () => {
    const lo = decideNext(res(500), state(1), REQ, NOW, 0).next as { runAt: number };
    const hi = decideNext(res(500), state(1), REQ, NOW, 0.999999).next as { runAt: number };
    expect([lo.runAt - NOW, hi.runAt - NOW]).toEqual([750, 1_250]);
  });
});

describe('decideDelivery', () => {
  const d = (attempt: number, webhookRetries = 2, attemptsBase = 0) => ({ attempt, attemptsBase, webhookRetries, backoff: BACKOFF });
  const HOOK = { url: 'http://127.0.0.1:9/hook' };

  it.each([
    [res(200), d(1), { status: 'delivered' }],
    [res(204), d(3), { status: 'delivered' }],
    [res(500), d(1), { status: 'pending', runAt: NOW + 1_000 }],
    [res(500), d(2), { status: 'pending', runAt: NOW + 2_000 }],
    [res(500), d(3), { status: 'failed' }],
    [res(500), d(1, 0), { status: 'failed' }],
    // after a re-delivery at attempt 3, attempts 4 and 5 are its fresh retries
    [res(500), d(4, 2, 3), { status: 'pending', runAt: NOW + 1_000 }],
    [res(500), d(5, 2, 3), { status: 'pending', runAt: NOW + 2_000 }],
    [res(500), d(6, 2, 3), { status: 'failed' }],
    [res(400, { noRetry: true }), d(1), { status: 'pending', runAt: NOW + 1_000 }],
    [res(503, { retryAfter: '5' }), d(1), { status: 'pending', runAt: NOW + 5_000 }],
    [res(503, { retryAfter: '500' }), d(1), { status: 'pending', runAt: NOW + 60_000 }],
    [err('network'), d(1), { status: 'pending', runAt: NOW + 1_000 }],
    [err('timeout'), d(3), { status: 'failed' }],
    [err('interrupted'), d(1), { status: 'pending', runAt: NOW }],
    [err('blocked'), d(1), { status: 'failed' }],
  ])('%j on delivery %j → %j', (outcome, delivery, expected) => {
    expect(decideDelivery(outcome, delivery, HOOK, NOW, 0.5)).toMatchObject(expected);
  });

  it('names the webhook URL in the error', () => {
    expect(decideDelivery(res(500), d(1), HOOK, NOW, 0.5)).toMatchObject({ error: { type: 'http', status: 500, message: 'HTTP 500 from POST http://127.0.0.1:9/hook' } });
  });
});
