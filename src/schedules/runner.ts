// Fires schedules. One timer (loop.ts) waits for the earliest next_fire_at (no polling); a pass plans each
// due schedule with fire-times.ts and writes every firing in one group-commit transaction (tasks
// keyed `sch:<id>:<fire time>`, so no slot ever makes two tasks), then re-arms. It creates tasks
// only; the dispatcher, woken through `wake`, delivers them.
import type { Clock } from '../clock.js';
import { Loop, type PassResult } from '../dispatch/loop.js';
import type { Logger } from '../log.js';
import type { DueSchedule, Store } from '../store/store.js';
import { compileCron, LATE_MS, planFires } from './fire-times.js';
import { firingTask } from './spec.js';

export interface ScheduleRunnerOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  /** The dispatcher's wake(), called after tasks were created. */
  wake: () => void;
  /** Longest timer sleep in ms (default 60 000): a backstop against wall-clock jumps and suspended machines. */
  maxSleepMs?: number;
  /** Delay before the next pass after a failed one, in ms (default 1000). */
  retryMs?: number;
  /** Due schedules read per store query (default 100). */
  batch?: number;
  /** Whether this node leads the cluster (api.md §9: schedules fire on the leader only); default always. */
  leads?: () => boolean;
}

/** Rounds in a row before the runner re-arms anyway (bounds the loop when writes keep being refused). */
const MAX_ROUNDS = 50;

export class ScheduleRunner {
  private startedAt = 0;
  private rounds = 0;
  /** The wake/pass/arm loop (its `busy` tells a virtual clock when work has settled). */
  readonly loop: Loop;
  /** Tasks created by firings since start. */
  fired = 0;

  constructor(private readonly o: ScheduleRunnerOptions) {
    // No backstop poll: the timer sleeps at most maxSleepMs, which covers wall-clock jumps.
    this.loop = new Loop({
      name: 'schedule runner', clock: o.clock, log: o.log, maxSleepMs: o.maxSleepMs ?? 60_000, retryMs: o.retryMs ?? 1000,
      pass: () => this.pass(), nextAt: () => (this.leading() ? this.o.store.nextScheduleAt() : Promise.resolve(null)),
    });
  }

  /** Starts firing; slots before this moment count as missed and follow each schedule's `catchUp`. */
  start(): void {
    this.startedAt = this.o.clock.now();
    this.wake();
  }

  /** Asks for a pass soon (after a schedule was created, changed or deleted); many calls make one pass. */
  wake(): void {
    this.loop.wake();
  }

  /** Stops the timer and waits for a pass in progress. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  private leading(): boolean {
    return this.o.leads ? this.o.leads() : true;
  }

  /** Reads due schedules and fires them, a batch per round; 'again' while rounds keep finding work. */
  private async pass(): Promise<PassResult> {
    // Not the leader: nothing to do until it becomes leader (Cluster wakes this runner then).
    if (!this.leading()) return 'done';
    const batch = this.o.batch ?? 100;
    const now = this.o.clock.now();
    const due = await this.o.store.dueSchedules(now, batch);
    // Every firing joins the same group-commit transaction.
    const done = await Promise.all(due.map((s) => this.fire(s, now)));
    // A full batch, or a row that changed since it was read: another round, up to MAX_ROUNDS in a row.
    const more = due.length === batch || !done.every(Boolean);
    if (more && ++this.rounds < MAX_ROUNDS) return 'again';
    this.rounds = 0;
    return 'done';
  }

  /** Fires one due schedule; false when its row changed since it was read (the next round re-reads it). */
  private async fire(s: DueSchedule, now: number): Promise<boolean> {
    const expect = { nextFireAt: s.nextFireAt, updatedAt: s.updatedAt };
    let job;
    try {
      job = compileCron(s.cron, s.timezone);
    } catch (err) {
      this.o.log.error('schedule cannot be computed; it will not fire until it is updated', { schedule: s.id, err: (err as Error).message });
      return (await this.o.store.fireSchedule({ id: s.id, tasks: [], lastFireAt: null, nextFireAt: null, expect })) !== undefined;
    }
    const missedBefore = Math.max(this.startedAt, now - LATE_MS);
    const plan = planFires({ job, from: s.nextFireAt, now, missedBefore, catchUp: s.catchUp, catchUpMax: s.catchUpMax });
    const tasks = plan.fire.map((slot) => firingTask(s.id, s.task, slot, now));
    // Created events go out at the store's commit, before the disk sync (store.signals).
    const results = await this.o.store.fireSchedule({ id: s.id, tasks, lastFireAt: plan.fire.at(-1) ?? null, nextFireAt: plan.next, expect });
    if (!results) return false;
    const created = results.filter((r) => r.created).map((r) => r.task);
    if (created.length > 0) this.o.wake();
    this.fired += created.length;
    if (plan.skipped > 0) this.o.log.info('skipped missed fire times of a schedule', { schedule: s.id, catchUp: s.catchUp, skipped: plan.skipped });
    if (this.o.log.enabled('debug')) {
      this.o.log.debug('schedule fired', { schedule: s.id, fireTimes: plan.fire.map((t) => new Date(t).toISOString()), tasks: created.map((t) => t.id) });
    }
    return true;
  }
}
