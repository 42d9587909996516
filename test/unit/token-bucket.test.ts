// token-bucket.ts: refill, take and next-token time as pure functions of `now` (ms).
import { describe, expect, it } from 'vitest';
import { available, capacity, fullBucket, nextTokenAt, refill, take } from '../../src/dispatch/token-bucket.js';

describe('token bucket', () => {
  it.each([
    [0.5, 1],
    [1, 1],
    [10, 1],
    [20, 2],
    [100, 10],
  ])('a rate of %f per second holds a burst of %f tokens', (rate, cap) => {
    expect(capacity(rate)).toBe(cap);
    expect(fullBucket(rate, 1_000)).toEqual({ tokens: cap, at: 1_000 });
  });

  it.each([
    // rate, tokens, at, now, available
    [20, 0, 0, 0, 0],
    [20, 0, 0, 49, 0],
    [20, 0, 0, 50, 1],
    [20, 0, 0, 99, 1],
    [20, 0, 0, 100, 2],
    [20, 0, 0, 10_000, 2],
    [20, -1, 0, 100, 1],
    [1, 0, 0, 999, 0],
    [1, 0, 0, 1_000, 1],
    [20, 2, 500, 400, 2],
  ])('rate %f, %f tokens at %i ms: %i available at %i ms', (rate, tokens, at, now, n) => {
    expect(available({ tokens, at }, rate, now)).toBe(n);
  });

  it('refills continuously and never beyond the burst capacity', () => {
    expect(refill({ tokens: 0, at: 0 }, 20, 25)).toEqual({ tokens: 0.5, at: 25 });
    expect(refill({ tokens: 1.5, at: 0 }, 20, 1_000)).toEqual({ tokens: 2, at: 1_000 });
  });

  it('does not go back in time', () => {
    const b = { tokens: 1, at: 500 };
    expect(refill(b, 20, 100)).toBe(b);
  });

  it('take removes tokens after refilling up to now', () => {
    expect(take({ tokens: 0, at: 0 }, 20, 100, 2)).toEqual({ tokens: 0, at: 100 });
    expect(take(fullBucket(20, 0), 20, 0, 1)).toEqual({ tokens: 1, at: 0 });
  });

  it.each([
    // rate, tokens, now, next token at
    [20, 1, 0, 0],
    [20, 0, 0, 50],
    [20, 0.5, 0, 25],
    [20, -1, 0, 100],
    [3, 0, 1_000, 1_334],
  ])('rate %f with %f tokens at %i ms: next token at %i ms', (rate, tokens, now, at) => {
    expect(nextTokenAt({ tokens, at: now }, rate, now)).toBe(at);
  });

  it('spaces starts at 1/rate once the burst is spent', () => {
    // Taking a token each time one is available: 20 per second means one every 50 ms.
    let b = { tokens: 0, at: 0 };
    let now = 0;
    const starts: number[] = [];
    for (let i = 0; i < 40; i++) {
      now = nextTokenAt(b, 20, now);
      b = take(b, 20, now, 1);
      starts.push(now);
    }
    expect((starts.length - 1) / ((starts.at(-1)! - starts[0]!) / 1000)).toBeCloseTo(20, 5);
  });
});
