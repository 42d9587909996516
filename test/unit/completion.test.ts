// Completion tokens and the async decisions (api.md §10), pure: a token names one attempt of one
// task, and is refused for any other; deadlines of a 202 and a heartbeat; what a timeout or the
// target's fail leads to.
import { describe, expect, it } from 'vitest';
import { completionToken, generateCompletionKey, looksLikeCompletionToken, verifyCompletionToken } from '../../src/shared/completion-token.js';
import { acceptDeadline, asyncFailError, asyncTimeoutError, decideAsyncFailure, heartbeatDeadline } from '../../src/dispatch/async-decide.js';

const key = Buffer.from(generateCompletionKey(), 'base64');
const other = Buffer.from(generateCompletionKey(), 'base64');

describe('completion tokens', () => {
  const token = completionToken(key, 'tsk_a', 2);
  it.each([
    ['its own task and key', key, 'tsk_a', token, 2],
    ['another task', key, 'tsk_b', token, undefined],
    ['another key (another database)', other, 'tsk_a', token, undefined],
    ['the attempt number edited', key, 'tsk_a', token.replace('aqc1.2.', 'aqc1.3.'), undefined],
    ['a truncated mac', key, 'tsk_a', token.slice(0, -1), undefined],
    ['garbage', key, 'tsk_a', 'hello', undefined],
    ['an empty string', key, 'tsk_a', '', undefined],
  ] as const)('verified against %s → %s', (_t, k, id, tok, want) => {
    expect(verifyCompletionToken(k, id, tok)).toBe(want);
  });
  it('has a recognisable shape, distinct from API tokens', () => {
    expect(looksLikeCompletionToken(token)).toBe(true);
    expect(looksLikeCompletionToken('my-api-token')).toBe(false);
    expect(completionToken(key, 'tsk_a', 1)).not.toBe(token);
  });
});

describe('async deadlines and decisions', () => {
  const NOW = 1_000_000;
  it.each([
    [{ timeoutMs: 3_600_000, heartbeatMs: null }, NOW + 3_600_000],
    [{ timeoutMs: 3_600_000, heartbeatMs: 30_000 }, NOW + 30_000],
    [{ timeoutMs: 10_000, heartbeatMs: 30_000 }, NOW + 10_000],
  ])('a 202 with %o opens until %i', (a, want) => {
    expect(acceptDeadline(NOW, a)).toBe(want);
  });

  it.each([
    // now, since, current deadline, settings → new deadline
    [NOW + 5_000, NOW, NOW + 10_000, { timeoutMs: 60_000, heartbeatMs: 10_000 }, NOW + 15_000],
    [NOW + 55_000, NOW, NOW + 60_000, { timeoutMs: 60_000, heartbeatMs: 10_000 }, NOW + 60_000],
    [NOW + 1_000, NOW, NOW + 60_000, { timeoutMs: 60_000, heartbeatMs: null }, NOW + 60_000],
    [NOW - 5_000, NOW, NOW + 10_000, { timeoutMs: 60_000, heartbeatMs: 10_000 }, NOW + 10_000],
  ])('a heartbeat at %i (since %i, deadline %i, %o) gives %i', (now, since, current, a, want) => {
    expect(heartbeatDeadline(now, since, current, a)).toBe(want);
  });

  it('names a late heartbeat and an expired timeout apart', () => {
    const a = { timeoutMs: 600_000, heartbeatMs: 30_000 };
    expect(asyncTimeoutError({ since: NOW, deadline: NOW + 30_000, heartbeatAt: null }, a).message).toBe('no heartbeat within async.heartbeat 30 s (none since the 202)');
    expect(asyncTimeoutError({ since: NOW, deadline: NOW + 600_000, heartbeatAt: NOW + 590_000 }, a).message).toBe('no complete or fail within async.timeout 600 s after the 202');
  });

  it('retries a failure by backoff while retries remain, fails at once with retry false or none left', () => {
    const err = asyncFailError('out of memory');
    const task = { attempt: 1, attemptsBase: 0, retries: 2, backoff: { initial: 10, factor: 2, max: 60 } };
    expect(decideAsyncFailure(err, true, task, NOW, 0.5)).toEqual({ status: 'pending', runAt: NOW + 10_000, error: err });
    expect(decideAsyncFailure(err, false, task, NOW, 0.5)).toEqual({ status: 'failed', error: err });
    expect(decideAsyncFailure(err, true, { ...task, attempt: 3 }, NOW, 0.5)).toEqual({ status: 'failed', error: err });
    expect(asyncFailError('  ')).toEqual({ type: 'async', message: 'the target failed the attempt' });
  });
});
