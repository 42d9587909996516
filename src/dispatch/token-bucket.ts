// A token bucket for `ratePerSecond` (api.md §4): pure functions of `now`, so the rate is
// smooth (tokens refill continuously) rather than bursts at second boundaries.

export interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date, in ms. */
  at: number;
}

/** Burst allowance: a tenth of a second's worth of tokens, at least one. */
export function capacity(rate: number): number {
  return Math.max(1, rate / 10);
}

/** A full bucket at `now`. */
export function fullBucket(rate: number, now: number): Bucket {
  return { tokens: capacity(rate), at: now };
}

/** The bucket refilled up to `now`. */
export function refill(b: Bucket, rate: number, now: number): Bucket {
  if (now <= b.at) return b;
  return { tokens: Math.min(capacity(rate), b.tokens + ((now - b.at) / 1000) * rate), at: now };
}

/** Whole tokens available at `now`. */
export function available(b: Bucket, rate: number, now: number): number {
  return Math.floor(refill(b, rate, now).tokens + 1e-9);
}

/** The bucket after taking `n` tokens at `now` (the caller checked `available`). */
export function take(b: Bucket, rate: number, now: number, n: number): Bucket {
  const r = refill(b, rate, now);
  return { tokens: r.tokens - n, at: r.at };
}

/** When (ms) the next whole token will be there; `now` if one already is. */
export function nextTokenAt(b: Bucket, rate: number, now: number): number {
  const r = refill(b, rate, now);
  if (r.tokens >= 1 - 1e-9) return now;
  return now + Math.ceil(((1 - r.tokens) / rate) * 1000);
}
