// Retry delay (api.md §3 `backoff`): a pure function of the retry number and a random draw.
import type { Backoff } from '../shared/types.js';

/** Jitter spreads each delay over ±25 % so retries of many tasks do not arrive together. */
export const JITTER = 0.25;

/**
 * Delay in ms before retry `n` (1-based): `min(max, initial·factor^(n-1))` seconds, times a jitter
 * factor in [1 − JITTER, 1 + JITTER) drawn from `random` ∈ [0, 1), never above `max`.
 */
export function backoffDelay(n: number, backoff: Backoff, random: number): number {
  const base = Math.min(backoff.max, backoff.initial * Math.pow(backoff.factor, Math.max(0, n - 1)));
  const jittered = base * (1 - JITTER + 2 * JITTER * random);
  return Math.round(Math.min(backoff.max, jittered) * 1000);
}
