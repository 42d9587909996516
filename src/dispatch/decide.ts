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
  /** Replaces `backoff` when set (a QStash `Upstash-Retry-Delay`): ms before the next attempt after `made` attempts. */
  retryDelayMs?: (made: number) => number;
}

export interface Decision {
  next: AttemptFinish['next'];
  /** What to record on the attempt. */
  httpStatus?: number;
  error?: TaskError;
  /** The delay a Retry-After header asked for (ms, capped by backoff.max), when one did. */
  retryAfterMs?: number;
}

/** The error of a non-2xx answer. */
export function httpError(status: number, method: string, url: string, body?: string): TaskError {
  const snippet = body ? ': ' + body.replace(/\s+/g, ' ').trim().slice(0, 200) : '';
  return { type: 'http', status, message: `HTTP ${status} from ${method} ${url}${snippet}` };
}

/** What a retry rule needs to know about the request and its history. */
interface RetryRule {
  /** Requests made so far that count toward `retries` (1 after the first). */
  made: number;
  retries: number;
  backoff: Backoff;
  method: string;
  url: string;
  /** Whether `AQ-No-Retry: true` fails at once (targets: yes; webhook receivers: no). */
  honorNoRetry: boolean;
  /** Whether an `interrupted` request (our own stop) is retried even when `retries` are used up. */
  interruptedAlwaysRetried: boolean;
  /** Replaces `backoff` when set: ms before the next request after `made` of them. */
  retryDelayMs?: (made: number) => number;
}

type Verdict =
  | { ok: true; httpStatus: number; resultJson: string | null }
  | { ok: false; httpStatus?: number; error: TaskError; runAt?: number; retryAfterMs?: number };

/** The core both decisions share: success, a retry at `runAt`, or a final failure (no `runAt`). */
function judge(outcome: AttemptOutcome, rule: RetryRule, now: number, random: number): Verdict {
  let error: TaskError;
  let retryable = true;
  let delay: number | undefined;
  let httpStatus: number | undefined;
  if (outcome.kind === 'response') {
    httpStatus = outcome.status;
    if (outcome.status >= 200 && outcome.status < 300) return { ok: true, httpStatus, resultJson: outcome.resultJson };
    error = httpError(outcome.status, rule.method, rule.url, outcome.errorBody);
    if (outcome.noRetry && rule.honorNoRetry) {
      retryable = false;
      // Says why the task stopped with retries left, wherever the error is shown.
      error = { ...error, message: `${error.message} (not retried: the target answered AQ-No-Retry: true)` };
    }
    const ra = parseRetryAfter(outcome.retryAfter, now);
    if (ra !== undefined) delay = Math.min(ra, rule.backoff.max * 1000);
  } else {
    error = outcome.error;
    if (error.type === 'blocked' || error.type === 'cancelled') retryable = false;
    if (error.type === 'interrupted') delay = 0; // our own restart: try again at once (api.md §5 Crash)
  }
  const exhausted = rule.made > rule.retries && !(error.type === 'interrupted' && rule.interruptedAlwaysRetried);
  const retryAfterMs = delay !== undefined && outcome.kind === 'response' ? delay : undefined;
  if (!retryable || exhausted) return { ok: false, httpStatus, error, retryAfterMs };
  delay ??= rule.retryDelayMs ? rule.retryDelayMs(rule.made) : backoffDelay(rule.made, rule.backoff, random);
  return { ok: false, httpStatus, error, runAt: now + delay, retryAfterMs };
}

/**
 * The next state after `outcome`. Retries while `attempt - attemptsBase <= retries`; a
 * `Retry-After` sets the delay, capped by `backoff.max`; `AQ-No-Retry` and `blocked` fail at once.
 * An interrupted attempt counts toward `retries`, but our own stop never ends a task: it is
 * always tried again after the restart (api.md §5 Crash).
 */
export function decideNext(outcome: AttemptOutcome, task: RetryState, req: { method: string; url: string }, now: number, random: number): Decision {
  const rule = {
    made: task.attempt - task.attemptsBase, retries: task.retries, backoff: task.backoff, method: req.method, url: req.url,
    honorNoRetry: true, interruptedAlwaysRetried: true, retryDelayMs: task.retryDelayMs,
  };
  const v = judge(outcome, rule, now, random);
  if (v.ok) return { next: { status: 'completed', resultJson: v.resultJson }, httpStatus: v.httpStatus };
  const { httpStatus, error, retryAfterMs } = v;
  if (v.runAt === undefined) return { next: { status: 'failed', error }, httpStatus, error, retryAfterMs };
  return { next: { status: 'pending', runAt: v.runAt, error }, httpStatus, error, retryAfterMs };
}

/** The delivery's next state (api.md §5 Webhook): delivered on 2xx, else retried `webhookRetries` times on the task's backoff. */
export function decideDelivery(
  outcome: AttemptOutcome,
  d: { attempt: number; attemptsBase: number; webhookRetries: number; backoff: Backoff },
  req: { url: string },
  now: number,
  random: number,
): DeliveryFinish['next'] {
  const rule = {
    // attempts since the last re-delivery count against webhookRetries (api.md §16: a fresh set)
    made: d.attempt - d.attemptsBase, retries: d.webhookRetries, backoff: d.backoff, method: 'POST', url: req.url,
    honorNoRetry: false, interruptedAlwaysRetried: false,
  };
  const v = judge(outcome, rule, now, random);
  if (v.ok) return { status: 'delivered' };
  if (v.runAt === undefined) return { status: 'failed', error: v.error };
  return { status: 'pending', runAt: v.runAt, error: v.error };
}
