// Why a pending task is not running (api.md §11), pure: the task, a snapshot of the limits the
// scheduler applies (queue pause, concurrency, rate; global concurrency) and `now` in, one
// reason out. Further reasons (key_concurrency, host_circuit_open of §12) plug in as blockers.
import type { Task, TaskError, Waiting } from '../shared/types.js';

/** One queue's limits and use, as the scheduler sees them at `now`. */
export interface QueueSnapshot {
  paused: boolean;
  concurrency: number | null;
  /** Attempts of the queue in flight (open async attempts hold no slot, api.md §10). */
  inFlight: number;
  ratePerSecond: number | null;
  /** When the queue's rate limit gives its next start (ms), if it has none to give now. */
  nextTokenAt?: number;
  /** Max attempts in flight per concurrencyKey (api.md §12); null or absent for none. */
  keyConcurrency?: number | null;
}

export interface WaitingContext {
  /** Queues by name; a queue not listed has no limits of its own. */
  queues: ReadonlyMap<string, QueueSnapshot>;
  /** The global --concurrency and the attempts in flight under it. */
  global: { concurrency: number; inFlight: number };
}

/** The fields of a task the reasons look at, times in ms. */
export interface WaitingTask {
  queue: string;
  status: Task['status'];
  runAt: number;
  attempts: number;
  /** Attempts made before the last manual retry (attempts − attemptsBase count against retries). */
  attemptsBase: number;
  retries: number;
  error: TaskError | null;
  /** The task itself, for blockers that need more (its concurrencyKey, its target origin). */
  task?: Task;
}

/**
 * A reason a due task of an open queue may be held by, checked after the queue's own
 * concurrency and before its rate and the global concurrency. Returns undefined when it does not hold.
 * `prepare`, when present, runs first for the tasks about to be explained (to read what the
 * check needs from the store once per answer, not once per task).
 */
export type WaitingBlocker = ((t: WaitingTask, now: number) => Waiting | undefined) & {
  prepare?: (tasks: readonly WaitingTask[], ctx: WaitingContext, now: number) => Promise<void>;
  /** Checked before the time reasons (scheduled, backoff): it holds a task even past its run time (an open circuit). */
  early?: boolean;
};

/** "14:02:11 UTC" within the day of `now`, else "2026-12-02 14:02:11 UTC". */
export function clockTime(ms: number, now: number): string {
  const iso = new Date(ms).toISOString();
  const sameDay = iso.slice(0, 10) === new Date(now).toISOString().slice(0, 10);
  return (sameDay ? iso.slice(11, 19) : iso.slice(0, 10) + ' ' + iso.slice(11, 19)) + ' UTC';
}

/** The failure a retry follows, in a few words: "HTTP 503", "a timeout". */
export function failureWords(e: TaskError | null): string {
  if (!e) return 'a failure';
  switch (e.type) {
    case 'http':
      return `HTTP ${e.status ?? '?'}`;
    case 'timeout':
      return 'a timeout';
    case 'network':
      return 'a network error';
    case 'async':
      return "the target's fail call";
    case 'interrupted':
      return 'an interruption';
    default:
      return e.type;
  }
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Why `t` waits at `now`: null unless it is pending. Checked in order: pause, time, limits, ready. */
export function waitingFor(t: WaitingTask, ctx: WaitingContext, now: number, blockers: readonly WaitingBlocker[] = []): Waiting | null {
  if (t.status !== 'pending') return null;
  const q = ctx.queues.get(t.queue);
  const name = JSON.stringify(t.queue);
  if (q?.paused) return { reason: 'queue_paused', message: `queue ${name} is paused; the task runs once the queue is resumed` };
  for (const b of blockers) {
    const w = b.early ? b(t, now) : undefined;
    if (w) return w;
  }
  if (t.runAt > now) {
    const made = t.attempts - t.attemptsBase;
    if (made > 0 && t.error) {
      return {
        reason: 'backoff', until: iso(t.runAt),
        message: `retry ${made} of ${t.retries} after ${failureWords(t.error)}; not before ${clockTime(t.runAt, now)}`,
      };
    }
    return { reason: 'scheduled', until: iso(t.runAt), message: `scheduled; not before ${clockTime(t.runAt, now)}` };
  }
  if (q && q.concurrency !== null && q.inFlight >= q.concurrency) {
    return { reason: 'queue_concurrency', message: `queue ${name} has ${q.inFlight} of ${q.concurrency} attempts in flight (its concurrency); the task starts when one ends` };
  }
  for (const b of blockers) {
    const w = b.early ? undefined : b(t, now);
    if (w) return w;
  }
  if (q?.ratePerSecond && q.nextTokenAt !== undefined && q.nextTokenAt > now) {
    return {
      reason: 'queue_rate', until: iso(q.nextTokenAt),
      message: `queue ${name} is at its rate limit of ${q.ratePerSecond} per second; next start not before ${clockTime(q.nextTokenAt, now)}`,
    };
  }
  if (ctx.global.inFlight >= ctx.global.concurrency) {
    return { reason: 'global_concurrency', message: `all ${ctx.global.concurrency} slots of the server's --concurrency are in use; the task starts when one frees` };
  }
  return { reason: 'ready', message: 'due now and next in line; it starts as soon as the dispatcher claims it' };
}
