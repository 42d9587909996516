// Fills in `waiting` on Task answers and computes a task's plan (api.md §11) from the limits
// the scheduler applies. One snapshot of the queues and slots serves a whole list: a page of
// 500 tasks costs the store no query per task. The reasons themselves are pure (waiting.ts,
// plan.ts); flow control adds its reasons with addBlocker().
import type { Clock } from '../clock.js';
import type { Task, TaskPlan } from '../shared/types.js';
import { attemptsBaseOf, type Store } from '../store/store.js';
import { planTask } from './plan.js';
import { waitingFor, type QueueSnapshot, type WaitingBlocker, type WaitingContext, type WaitingTask } from './waiting.js';

/** What the scheduler's limits say right now (Limits implements it). */
export interface SlotView {
  /** The global --concurrency. */
  readonly capacity: number;
  /** Attempts in flight under it. */
  readonly total: number;
  inFlightOf(queue: string): number;
  /** When `queue`'s rate limit gives its next start (ms), if it has none to give at `now`. */
  tokenWaitUntil(queue: string, now: number): number | undefined;
}

export interface ExplainerOptions {
  store: Store;
  clock: Clock;
  slots: SlotView;
  blockers?: WaitingBlocker[];
}

export class Explainer {
  private readonly blockers: WaitingBlocker[];

  constructor(private readonly o: ExplainerOptions) {
    this.blockers = [...(o.blockers ?? [])];
  }

  /** Adds a reason a due task may be held by (checked in the order added; see WaitingBlocker). */
  addBlocker(b: WaitingBlocker): void {
    this.blockers.push(b);
  }

  /** The snapshot reasons are computed from: the store's (cached) queue settings and the live slots, for `only` (default all) queues. */
  async context(now: number, only?: ReadonlySet<string>): Promise<WaitingContext> {
    const limits = await this.o.store.queueLimits();
    const queues = new Map<string, QueueSnapshot>();
    for (const q of limits) {
      if (only && !only.has(q.name)) continue;
      queues.set(q.name, {
        paused: q.paused, concurrency: q.concurrency, ratePerSecond: q.ratePerSecond, keyConcurrency: q.keyConcurrency,
        inFlight: this.o.slots.inFlightOf(q.name),
        nextTokenAt: q.ratePerSecond ? this.o.slots.tokenWaitUntil(q.name, now) : undefined,
      });
    }
    return { queues, global: { concurrency: this.o.slots.capacity, inFlight: this.o.slots.total } };
  }

  /** The tasks with `waiting` set (a copy of each pending one; others unchanged). */
  async annotate(tasks: Task[]): Promise<Task[]> {
    if (!tasks.some((t) => t.status === 'pending')) return tasks;
    const now = this.o.clock.now();
    const ctx = await this.context(now, new Set(tasks.map((t) => t.queue)));
    const pending = tasks.filter((t) => t.status === 'pending').map(waitingTask);
    await this.prepare(pending, ctx, now);
    let i = 0;
    return tasks.map((t) => (t.status === 'pending' ? { ...t, waiting: waitingFor(pending[i++]!, ctx, now, this.blockers) } : t));
  }

  private async prepare(tasks: WaitingTask[], ctx: WaitingContext, now: number): Promise<void> {
    if (tasks.length === 0) return;
    await Promise.all(this.blockers.map((b) => b.prepare?.(tasks, ctx, now)));
  }

  /** `GET /v1/tasks/:id/plan`: undefined when there is no such task. */
  async plan(id: string): Promise<TaskPlan | undefined> {
    const [task, attempts] = await Promise.all([this.o.store.getTask(id), this.o.store.listAttempts(id)]);
    if (!task || !attempts) return undefined;
    const now = this.o.clock.now();
    const ctx = await this.context(now, new Set([task.queue]));
    const base = attemptsBaseOf(task);
    const wt = waitingTask(task);
    if (task.status === 'pending') await this.prepare([wt], ctx, now);
    const waiting = waitingFor(wt, ctx, now, this.blockers);
    const ofRun = attempts.filter((a) => a.n > base);
    const lastRetryAfter = [...ofRun].reverse().find((a) => a.retryAfter !== undefined)?.retryAfter;
    const current = attempts.find((a) => a.n === task.attempts);
    return planTask(
      {
        status: task.status, attempts: task.attempts, attemptsBase: base, retries: task.retries, timeoutMs: task.timeout * 1000,
        backoff: task.backoff, runAt: Date.parse(task.runAt),
        async: task.async && { timeoutMs: task.async.timeout * 1000, heartbeatMs: task.async.heartbeat === null ? null : task.async.heartbeat * 1000 },
        startedAt: current ? Date.parse(current.startedAt) : Date.parse(task.updatedAt),
        awaiting: task.awaiting && { since: Date.parse(task.awaiting.since), deadline: Date.parse(task.awaiting.deadline) },
        lastRetryAfterMs: lastRetryAfter === undefined ? null : lastRetryAfter * 1000,
        queuePaused: ctx.queues.get(task.queue)?.paused ?? false,
        waiting,
      },
      now,
    );
  }
}

function waitingTask(t: Task): WaitingTask {
  return {
    queue: t.queue, status: t.status, runAt: Date.parse(t.runAt), attempts: t.attempts, attemptsBase: attemptsBaseOf(t),
    retries: t.retries, error: t.error, task: t,
  };
}
