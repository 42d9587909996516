// The target's side of an open async attempt (api.md §10): complete, fail and heartbeat, with
// the idempotency and conflict rules of the contract. Any node can serve them: the token is
// checked with the key alone, the attempt's state is read from the store, and every change is
// a guarded write there, so of two racing calls (complete and fail) exactly one wins.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import { looksLikeCompletionToken, verifyCompletionToken } from '../shared/completion-token.js';
import type { Task } from '../shared/types.js';
import type { AsyncAttemptState, AsyncEnd, AttemptFinish, Store } from '../store/store.js';
import { asyncFailError, decideAsyncFailure } from './async-decide.js';

export interface CompletionsOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  /** The key completion tokens are made with (kept in the store's settings). */
  key: Buffer;
  /** Bytes a `result` may take, JSON-encoded (--max-result). */
  maxResultBytes: number;
  /** Asks the scheduler to look again (a retry became due, a deadline passed). */
  wake: () => void;
  /** Called when a task ended with a webhook to deliver. */
  onWebhookDue?: () => void;
  random?: () => number;
}

/** Which attempt a caller may act on: the one its completion token names, or any (an API token). */
export type Caller = { attempt: number } | { attempt: 'latest' };

export type CompletionRefusal = { ok: false; status: 401 | 404 | 409 | 413; code: 'unauthorized' | 'not_found' | 'conflict' | 'payload_too_large'; message: string };
export type CompletionAnswer<T> = { ok: true; value: T } | CompletionRefusal;

const refuse = (status: CompletionRefusal['status'], message: string): CompletionRefusal => ({
  ok: false, status, message,
  code: status === 401 ? 'unauthorized' : status === 404 ? 'not_found' : status === 409 ? 'conflict' : 'payload_too_large',
});

const ENDED_WORDS = { completed: 'was completed', failed: 'was failed by the target', timeout: 'timed out', cancelled: 'was cancelled' } as const;

export class Completions {
  private readonly random: () => number;

  constructor(private readonly o: CompletionsOptions) {
    this.random = o.random ?? Math.random;
  }

  /**
   * The caller behind an `Authorization` bearer for task `id`: a completion token names its
   * attempt (401 when it belongs to no attempt of this task, or not to the body's `attempt`);
   * an accepted API token may act on any attempt. `apiToken` says whether the bearer is an
   * accepted API token (or none is needed).
   */
  caller(id: string, token: string | undefined, apiToken: boolean, bodyAttempt: number | undefined): CompletionAnswer<Caller> {
    if (token !== undefined && looksLikeCompletionToken(token)) {
      const n = verifyCompletionToken(this.o.key, id, token);
      if (n === undefined) return refuse(401, `this completion token does not belong to task ${id}`);
      if (bodyAttempt !== undefined && bodyAttempt !== n) return refuse(401, `this completion token is for attempt ${n}, not attempt ${bodyAttempt}`);
      return { ok: true, value: { attempt: n } };
    }
    if (!apiToken) {
      return refuse(401, token === undefined
        ? 'missing bearer token: send the AQ-Completion-Token of the attempt (or an API token)'
        : 'not a valid completion token or API token');
    }
    return { ok: true, value: { attempt: bodyAttempt ?? 'latest' } };
  }

  /** `POST /v1/tasks/:id/complete`: the attempt succeeded with `result`. */
  async complete(id: string, caller: Caller, result: unknown): Promise<CompletionAnswer<Task>> {
    const resultJson = JSON.stringify(result === undefined ? null : result);
    const size = Buffer.byteLength(resultJson);
    if (size > this.o.maxResultBytes) {
      return refuse(413, `result is ${size} bytes, more than --max-result (${this.o.maxResultBytes} bytes); nothing was stored and the attempt is still open`);
    }
    return this.end(id, caller, 'completed', () => ({ status: 'completed', resultJson }));
  }

  /** `POST /v1/tasks/:id/fail`: the attempt failed; retried by backoff while retries remain unless `retry` is false. */
  async fail(id: string, caller: Caller, message: string | undefined, retry: boolean): Promise<CompletionAnswer<Task>> {
    const error = asyncFailError(message);
    return this.end(id, caller, 'failed', (s, n, now) => decideAsyncFailure(error, retry, { ...s, attempt: n }, now, this.random()));
  }

  /** `POST /v1/tasks/:id/heartbeat`: the attempt's new deadline (ms). */
  async heartbeat(id: string, caller: Caller): Promise<CompletionAnswer<number>> {
    const now = this.o.clock.now();
    const s = await this.o.store.asyncAttempt(id, caller.attempt === 'latest' ? undefined : caller.attempt);
    const check = this.check(s, caller, now);
    if (!check.ok) return check.status === 200 ? this.notOpen(s, 0, 'heartbeat', now) : check;
    const { n } = check.value;
    const deadline = await this.o.store.heartbeatAttempt(id, n, now);
    if (deadline !== undefined) return { ok: true, value: deadline };
    return this.notOpen(await this.o.store.asyncAttempt(id, n), n, 'heartbeat', this.o.clock.now());
  }

  /** Checks the attempt is open, ends it by the guarded write, and answers repeats and conflicts. */
  private async end(
    id: string,
    caller: Caller,
    ended: 'completed' | 'failed',
    decide: (s: AsyncAttemptState, n: number, now: number) => AttemptFinish['next'],
  ): Promise<CompletionAnswer<Task>> {
    const now = this.o.clock.now();
    const s = await this.o.store.asyncAttempt(id, caller.attempt === 'latest' ? undefined : caller.attempt);
    const check = this.check(s, caller, now, ended);
    if (!check.ok) {
      if (check.status !== 200) return check;
    } else {
      const { state, n } = check.value;
      const next = decide(state, n, now);
      const end: AsyncEnd = { id, attempt: n, ended, next, now };
      const task = await this.o.store.endAsyncAttempt(end);
      if (task) {
        this.announce(task, state, n, next.status, ended);
        // a then/onFailure step's task was created with the end (api.md §13): it is due now
        if (end.chained) this.o.wake();
        return { ok: true, value: task };
      }
    }
    // Not open (or lost a race): the same call again is answered with the task as it is.
    const n = caller.attempt === 'latest' ? (s?.attempts ?? 0) : caller.attempt;
    const after = await this.o.store.asyncAttempt(id, n);
    if (after?.ended === ended) {
      const task = await this.o.store.getTask(id);
      if (task) return { ok: true, value: task };
    }
    return this.notOpen(after, n, ended === 'completed' ? 'complete' : 'fail', this.o.clock.now());
  }

  /** The state and attempt when the attempt is open; a refusal otherwise (status 200 marks "maybe a repeat"). */
  private check(
    s: AsyncAttemptState | undefined,
    caller: Caller,
    now: number,
    ended?: 'completed' | 'failed',
  ): { ok: true; value: { state: AsyncAttemptState; n: number } } | CompletionRefusal | { ok: false; status: 200 } {
    if (!s) return refuse(404, 'task not found');
    if (!s.async) return refuse(409, `task ${s.id} has no async settings, so it has no attempt to complete, fail or heartbeat`);
    const n = caller.attempt === 'latest' ? s.attempts : caller.attempt;
    if (n < 1 || n > s.attempts) return refuse(409, `task ${s.id} has no attempt ${n} (it has made ${s.attempts})`);
    const open = s.status === 'running' && s.attempts === n && (s.awaiting === null || s.awaiting.deadline > now);
    if (open) return { ok: true, value: { state: s, n } };
    if (ended && s.ended === ended) return { ok: false, status: 200 };
    return this.notOpen(s, n, ended === undefined ? 'heartbeat' : ended === 'completed' ? 'complete' : 'fail', now);
  }

  /** 409 naming why attempt `n` is not open. */
  private notOpen(s: AsyncAttemptState | undefined, n: number, call: string, now: number): CompletionRefusal {
    if (!s) return refuse(404, 'task not found');
    let why: string;
    if (s.status === 'running' && s.attempts === n && s.awaiting && s.awaiting.deadline <= now) {
      this.o.wake(); // the dispatcher records the timeout
      why = `timed out at ${new Date(s.awaiting.deadline).toISOString()}`;
    } else if (s.ended) why = ENDED_WORDS[s.ended];
    else if (s.attempts > n) why = `was superseded by attempt ${s.attempts}`;
    else why = `is not open (the task is ${s.status})`;
    return refuse(409, `cannot ${call}: attempt ${n} of task ${s.id} ${why}`);
  }

  private announce(task: Task, s: AsyncAttemptState, n: number, next: Task['status'], ended: string): void {
    if (next === 'pending') this.o.wake();
    else if (s.hasWebhook || task.batchId !== null) this.o.onWebhookDue?.();
    this.o.log.info('task ' + next, { task: task.id, queue: task.queue, attempt: n, via: ended === 'completed' ? 'complete' : 'fail' });
  }
}
