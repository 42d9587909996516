// What the queue will do with a task if every remaining attempt fails (api.md §11), pure: when
// each remaining attempt would start (the jitter band of the backoff, widened by the delay the
// target last asked for with Retry-After) and the latest time the task would end `failed`.
import type { Backoff, Task, TaskPlan, Waiting } from '../shared/types.js';
import type { AsyncMs } from '../store/store.js';
import { JITTER } from './backoff.js';

/** A task as the plan needs it; times in ms. */
export interface PlanInput {
  status: Task['status'];
  attempts: number;
  attemptsBase: number;
  retries: number;
  timeoutMs: number;
  backoff: Backoff;
  async: AsyncMs | null;
  runAt: number;
  /** For a running task: when its attempt started. */
  startedAt: number;
  /** For a running task whose target answered 202: when, and its deadline. */
  awaiting: { since: number; deadline: number } | null;
  /** The delay the latest Retry-After of this run asked for (ms, as applied), if any. */
  lastRetryAfterMs: number | null;
  /** The task's queue is paused: nothing new starts until someone resumes it, so no latest time is known. */
  queuePaused: boolean;
  waiting: Waiting | null;
}

/** The band [low, high] of the delay before retry `r` (1-based), in ms, as backoffDelay draws it. */
export function delayBand(r: number, b: Backoff, retryAfterMs: number | null): [number, number] {
  const base = Math.min(b.max, b.initial * Math.pow(b.factor, Math.max(0, r - 1)));
  let lo = Math.round(Math.min(b.max, base * (1 - JITTER)) * 1000);
  let hi = Math.round(Math.min(b.max, base * (1 + JITTER)) * 1000);
  // A target that answered with Retry-After is likely to again: its delay (capped by max) is in the band too.
  if (retryAfterMs !== null) {
    lo = Math.min(lo, retryAfterMs);
    hi = Math.max(hi, retryAfterMs);
  }
  return [lo, hi];
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The plan of `t` at `now`: empty for a terminal task. */
export function planTask(t: PlanInput, now: number): TaskPlan {
  if (t.status === 'completed' || t.status === 'failed' || t.status === 'cancelled') return { waiting: null, attempts: [], givesUpAt: null };
  const last = t.attemptsBase + t.retries + 1; // the number of the last attempt allowed
  // At worst an attempt takes its timeout, and an async one then waits async.timeout after its 202.
  const span = t.timeoutMs + (t.async ? t.async.timeoutMs : 0);
  const attempts: TaskPlan['attempts'] = [];
  // When the attempt before the next one would end, failing: [lo, hi] (hi null = not known).
  let lo: number;
  let hi: number | null;
  let n = t.attempts + 1;
  if (t.status === 'pending') {
    const until = t.waiting?.until ? Date.parse(t.waiting.until) : now;
    const start = Math.max(now, t.runAt, until);
    attempts.push({ n, earliest: iso(start), latest: t.queuePaused ? null : iso(start) });
    lo = start;
    hi = t.queuePaused ? null : start + span;
    n++;
  } else {
    lo = now;
    hi = t.awaiting && t.async ? t.awaiting.since + t.async.timeoutMs : t.startedAt + span;
    if (t.queuePaused) hi = null;
  }
  for (; n <= last; n++) {
    const [dLo, dHi] = delayBand(n - 1 - t.attemptsBase, t.backoff, t.lastRetryAfterMs);
    const earliest = lo + dLo;
    const latest = hi === null ? null : hi + dHi;
    attempts.push({ n, earliest: iso(earliest), latest: latest === null ? null : iso(latest) });
    lo = earliest;
    hi = latest === null ? null : latest + span;
  }
  return { waiting: t.waiting, attempts, givesUpAt: hi === null ? null : iso(hi) };
}
