// Decisions of async completion (api.md §10), pure: the deadline a 202 opens, what a heartbeat
// gives, and what follows the target's fail or a deadline passing. `now` and `random` are
// arguments; the retry rules are decide.ts's own.
import type { TaskError } from '../shared/types.js';
import type { AsyncAttemptState, AsyncMs, AttemptFinish } from '../store/store.js';
import { decideNext } from './decide.js';

/** The deadline (ms) of an attempt opened by a 202 at `now`: the first heartbeat or the timeout, whichever is first. */
export function acceptDeadline(now: number, a: AsyncMs): number {
  return now + (a.heartbeatMs === null ? a.timeoutMs : Math.min(a.heartbeatMs, a.timeoutMs));
}

/** The deadline (ms) a heartbeat at `now` gives an attempt opened at `since` (what the store computes in SQL). */
export function heartbeatDeadline(now: number, since: number, current: number, a: AsyncMs): number {
  if (a.heartbeatMs === null) return current;
  return Math.max(current, Math.min(now + a.heartbeatMs, since + a.timeoutMs));
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/** The error of an open attempt whose deadline passed: a late heartbeat, or async.timeout. */
export function asyncTimeoutError(s: { since: number; deadline: number; heartbeatAt: number | null }, a: AsyncMs): TaskError {
  if (a.heartbeatMs !== null && s.deadline < s.since + a.timeoutMs) {
    const last = s.heartbeatAt === null ? 'none since the 202' : `the last at ${new Date(s.heartbeatAt).toISOString()}`;
    return { type: 'timeout', message: `no heartbeat within async.heartbeat ${seconds(a.heartbeatMs)} (${last})` };
  }
  return { type: 'timeout', message: `no complete or fail within async.timeout ${seconds(a.timeoutMs)} after the 202` };
}

type RetryOf = Pick<AsyncAttemptState, 'attemptsBase' | 'retries' | 'backoff'>;

/** What follows the end of open attempt `attempt` with `error`: retried by backoff while retries remain, else failed. */
export function decideAsyncFailure(error: TaskError, retry: boolean, task: RetryOf & { attempt: number }, now: number, random: number): AttemptFinish['next'] {
  if (!retry) return { status: 'failed', error };
  return decideNext({ kind: 'error', error, durationMs: 0 }, task, { method: '', url: '' }, now, random).next;
}

/** The error the target's `fail` call records. */
export function asyncFailError(message: string | undefined): TaskError {
  const text = (message ?? '').trim();
  return { type: 'async', message: text ? `the target failed the attempt: ${text.slice(0, 1000)}` : 'the target failed the attempt' };
}
