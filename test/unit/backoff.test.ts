// backoff.ts: the retry delay as a table of (retry n, backoff, random draw) → milliseconds.
import { describe, expect, it } from 'vitest';
import { JITTER, backoffDelay } from '../../src/dispatch/backoff.js';

const DEFAULT = { initial: 2, factor: 2, max: 3600 };

describe('backoffDelay', () => {
  it.each([
    // n, backoff, random, ms
    [1, DEFAULT, 0.5, 2_000],
    [2, DEFAULT, 0.5, 4_000],
    [3, DEFAULT, 0.5, 8_000],
    [1, DEFAULT, 0, 1_500],
    [1, DEFAULT, 0.999999, 2_500],
    [3, DEFAULT, 0, 6_000],
    [20, DEFAULT, 0.5, 3_600_000],
    [20, DEFAULT, 0, 2_700_000],
    [1, { initial: 0.01, factor: 2, max: 0.05 }, 0.5, 10],
    [5, { initial: 0.01, factor: 2, max: 0.05 }, 0.5, 50],
    [4, { initial: 1, factor: 1, max: 10 }, 0.5, 1_000],
    [1, { initial: 0, factor: 2, max: 10 }, 0.7, 0],
  ])('retry %i with %j and random %f waits %i ms', (n, backoff, random, ms) => {
    expect(backoffDelay(n, backoff, random)).toBe(ms);
  });

  it('never exceeds max, even with the largest jitter draw', () => {
    for (let n = 1; n <= 30; n++) expect(backoffDelay(n, DEFAULT, 0.999999)).toBeLessThanOrEqual(3_600_000);
  });

  it('treats n below 1 as the first retry', () => {
    expect(backoffDelay(0, DEFAULT, 0.5)).toBe(2_000);
  });

  it('spreads delays over ±JITTER of the base', () => {
    expect(backoffDelay(2, DEFAULT, 0)).toBe(Math.round(4_000 * (1 - JITTER)));
    expect(backoffDelay(2, DEFAULT, 0.999999)).toBe(Math.round(4_000 * (1 + JITTER)));
  });
});
