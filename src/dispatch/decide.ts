// Decides what follows an attempt (api.md §5): completed, retried at a time, or failed.
// Pure: the outcome, the task's retry settings, `now` and a `random` draw in; a decision out.
import type { Backoff, TaskError } from '../shared/types.js';
import type { AttemptFinish, DeliveryFinish } from '../store/store.js';
import { backoffDelay } from './backoff.js';
import type { AttemptOutcome } from './outcome.js';
import { parseRetryAfter } from './retry-after.js';

export interface RetryState {
  /** The attempt just made, 1-based over the task's life. */
  attempt: number;
  /** Attempts made before the last manual retry. */
  attemptsBase: number;
  retries: number;
  backoff: Backoff;
}

export interface Decision {
  next: AttemptFinish['next'];
  /** What to record on the attempt. */
  httpStatus?: number;
  error?: TaskError;
}

/** The error of a non-2xx answer. */
export function httpError(status: number, method: string, url: string, body?: string): TaskError {
  const snippet = body ? ': ' + body.replace(/\s+/g, ' ').trim().slice(0, 200) : '';
  return { type: 'http', status, message: `HTTP ${status} from ${method} ${url}${snippet}` };
}

/**
 * The next state after `outcome`. Retries while `attempt - attemptsBase <= retries`; a
 * `Retry-After` sets the delay, capped by `backoff.max`; `AQ-No-Retry` and `blocked` fail at once.
 */
export function decideNext(outcome: AttemptOutcome, task: RetryState, req: { method: string; url: string }, now: number, random: number): Decision {
  let error: TaskError;
  let retryable = true;
  let delay: number | undefined;
  let httpStatus: number | undefined;
  if (outcome.kind === 'response') {
    httpStatus = outcome.status;
    if (outcome.status >= 200 && outcome.status < 300) return { next: { status: 'completed', resultJson: outcome.resultJson }, httpStatus };
    error = httpError(outcome.status, req.method, req.url, outcome.errorBody);
    if (outcome.noRetry) retryable = false;
    const ra = parseRetryAfter(outcome.retryAfter, now);
    if (ra !== undefined) delay = Math.min(ra, task.backoff.max * 1000);
  } else {
    error = outcome.error;
    if (error.type === 'blocked' || error.type === 'cancelled') retryable = false;
    if (error.type === 'interrupted') delay = 0; // our own restart: try again at once (api.md §5 Crash)
  }
  const made = task.attempt - task.attemptsBase;
  // An interrupted attempt counts toward `retries`, but our own stop never ends a task:
  // it is always tried again after the restart (api.md §5 Crash).
  const exhausted = made > task.retries && error.type !== 'interrupted';
  if (!retryable || exhausted) return { next: { status: 'failed', error }, httpStatus, error };
  delay ??= backoffDelay(made, task.backoff, random);
  return { next: { status: 'pending', runAt: now + delay, error }, httpStatus, error };
}

/** The delivery's next state (api.md §5 Webhook): delivered on 2xx, else retried `webhookRetries` times on the task's backoff. */
export function decideDelivery(
  outcome: AttemptOutcome,
  d: { attempt: number; webhookRetries: number; backoff: Backoff },
  req: { url: string },
  now: number,
  random: number,
): DeliveryFinish['next'] {
  let error: TaskError;
  let delay: number | undefined;
  if (outcome.kind === 'response') {
    if (outcome.status >= 200 && outcome.status < 300) return { status: 'delivered' };
    error = httpError(outcome.status, 'POST', req.url, outcome.errorBody);
    const ra = parseRetryAfter(outcome.retryAfter, now);
    if (ra !== undefined) delay = Math.min(ra, d.backoff.max * 1000);
  } else {
    error = outcome.error;
    if (error.type === 'blocked') return { status: 'failed', error };
    if (error.type === 'interrupted') delay = 0;
  }
  if (d.attempt > d.webhookRetries) return { status: 'failed', error };
  delay ??= backoffDelay(d.attempt, d.backoff, random);
  return { status: 'pending', runAt: now + delay, error };
}
