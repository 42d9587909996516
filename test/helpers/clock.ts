// manualClock: a server clock the test moves by hand, so times written by the server (runAt,
// startedAt, deadlines) are exact numbers instead of wall-clock ranges. countCalls: counts a
// store method's calls (without changing them) and resolves once matching calls have finished.
import { onTestFinished } from 'vitest';
import type { Clock } from '../../src/clock.js';

export interface ManualClock extends Clock {
  set(t: number): void;
  advance(ms: number): void;
}

/** A clock standing still at `start` (default: now, rounded to the second) until the test moves it. */
export function manualClock(start = Math.floor(Date.now() / 1000) * 1000): ManualClock {
  let now = start;
  return {
    now: () => now,
    set: (t) => void (now = t),
    advance: (ms) => void (now += ms),
  };
}

export interface CallCounter<A extends unknown[]> {
  /** Every call's arguments so far. */
  calls: A[];
  /** Resolves once `n` calls (counted from now) that matched `test` have finished (their promise settled). */
  next(n: number, test?: (...args: A) => boolean): Promise<void>;
}

/** Wraps `obj[name]` to record its calls; restored when the test finishes. */
export function countCalls<T extends object, K extends keyof T>(obj: T, name: K): CallCounter<T[K] extends (...a: infer A) => unknown ? A : never> {
  type A = T[K] extends (...a: infer P) => unknown ? P : never;
  const original = obj[name] as unknown as (...a: A) => unknown;
  const calls: A[] = [];
  const waiters: { left: number; test: (...a: A) => boolean; resolve: () => void }[] = [];
  (obj as Record<K, unknown>)[name] = (...args: A) => {
    calls.push(args);
    const done = waiters.filter((w) => w.test(...args) && --w.left === 0);
    for (const w of done) waiters.splice(waiters.indexOf(w), 1);
    const result = original.apply(obj, args);
    if (done.length > 0) void Promise.resolve(result).finally(() => done.forEach((w) => w.resolve())).catch(() => undefined);
    return result;
  };
  onTestFinished(() => void ((obj as Record<K, unknown>)[name] = original));
  return {
    calls,
    next: (n, test = () => true) => new Promise<void>((resolve) => waiters.push({ left: n, test, resolve })),
  };
}
