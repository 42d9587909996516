// Fires schedules. One timer waits for the earliest next_fire_at (no polling); a pass plans each
// due schedule with fire-times.ts and writes every firing in one group-commit transaction (tasks
// keyed `sch:<id>:<fire time>`, so no slot ever makes two tasks), then re-arms. It creates tasks
// only; the dispatcher, woken through `wake`, delivers them.
import type { Clock } from '../clock.js';
import { taskEvent, type TaskEvents } from '../dispatch/events.js';
import type { Logger } from '../log.js';
import type { CreateResult, DueSchedule, Store } from '../store/store.js';
import { compileCron, LATE_MS, planFires } from './fire-times.js';
import { firingTask } from './spec.js';

export interface ScheduleRunnerOptions {
  store: Store;
  events: TaskEvents;
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
}

/** Passes in a row before the runner re-arms anyway (bounds the loop when writes keep being refused). */
const MAX_ROUNDS = 50;

export class ScheduleRunner {
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private scheduled = false;
  private current: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  /** Tasks created by firings since start. */
  fired = 0;

  constructor(private readonly o: ScheduleRunnerOptions) {}

  /** Starts firing; slots before this moment count as missed and follow each schedule's `catchUp`. */
  start(): void {
    this.startedAt = this.o.clock.now();
    this.wake();
  }

  /** Asks for a pass soon (after a schedule was created, changed or deleted); many calls make one pass. */
  wake(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.current) return void (this.again = true);
      this.current = this.pass().finally(() => {
        this.current = undefined;
        // A wake() that came after the last round read the store: look again.
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
    });
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.current;
  }

  private async pass(): Promise<void> {
    const batch = this.o.batch ?? 100;
    let failed = false;
    try {
      for (let round = 0; round < MAX_ROUNDS && !this.stopped; round++) {
        this.again = false;
        const now = this.o.clock.now();
        const due = await this.o.store.dueSchedules(now, batch);
        // Every firing joins the same group-commit transaction.
        const done = await Promise.all(due.map((s) => this.fire(s, now)));
        if (!this.again && due.length < batch && done.every(Boolean)) break;
      }
    } catch (err) {
      failed = true;
      this.o.log.error('firing schedules failed; trying again', { err });
    }
    await this.arm(failed ? (this.o.retryMs ?? 1000) : 0);
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
    // Created events go out at commit, before the disk sync (see api/routes/tasks.ts).
    const announce = (rs: CreateResult[] | undefined) => {
      for (const r of rs ?? []) if (r.created) this.o.events.emit(taskEvent(r.task.id, r.task.queue, r.task.status, r.task.attempts, now));
    };
    const results = await this.o.store.fireSchedule({ id: s.id, tasks, lastFireAt: plan.fire.at(-1) ?? null, nextFireAt: plan.next, expect }, announce);
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

  /** Arms the one timer for the earliest next_fire_at (at least `floorMs` away, at most maxSleepMs). */
  private async arm(floorMs: number): Promise<void> {
    if (this.stopped) return;
    let next: number | null;
    try {
      next = await this.o.store.nextScheduleAt();
    } catch (err) {
      this.o.log.warn('cannot read the next schedule time; trying again', { err: (err as Error).message });
      next = this.o.clock.now() + (this.o.retryMs ?? 1000);
    }
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    if (next === null) return; // nothing to fire; a route's wake() re-arms
    const delay = Math.min(this.o.maxSleepMs ?? 60_000, Math.max(floorMs, next - this.o.clock.now()));
    this.timer = setTimeout(() => this.wake(), delay);
    this.timer.unref();
  }
}
