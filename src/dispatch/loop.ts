// The one wake → pass → arm → stop loop of the scheduler, the webhook sender and the schedule
// runner (the shape of River's producer and graphile-worker's): wake() coalesces into one pass,
// a wake during a pass runs another after it, one timer waits for the next due time (injected
// clock), a slow backstop poll covers what no wake announced. What a pass does is the caller's.
import { setTimer, type Clock } from '../clock.js';
import type { Logger } from '../log.js';

/**
 * A pass's answer: `'again'` to pass again at once (it did work, more may be due), `'done'` to
 * arm the timer for `nextAt()`, `'busy'` to wait for a wake() (every slot is taken; a finishing
 * one wakes the loop).
 */
export type PassResult = 'again' | 'done' | 'busy';

export interface LoopOptions {
  /** Names the loop in log lines. */
  name: string;
  clock: Clock;
  log: Logger;
  /** Does the work due now and says what follows. */
  pass: () => Promise<PassResult>;
  /** After a `'done'` pass: when work is next due (ms since the epoch), or null for none (a wake() will come). */
  nextAt: () => Promise<number | null>;
  /** Backstop poll interval in ms; 0 for none (default 0). */
  backstopMs?: number;
  /** Longest single timer in ms (default 3 600 000): a far time is approached in steps. */
  maxSleepMs?: number;
  /** Delay before the next pass after a failed one, in ms (default 1000). */
  retryMs?: number;
}

/** Longest single timer by default (1 hour); well under setTimeout's 2^31−1 ms limit. */
const MAX_SLEEP_MS = 3_600_000;

export class Loop {
  private scheduled = false;
  private again = false;
  private stopped = false;
  private current: Promise<void> | undefined;
  private cancelTimer: (() => void) | undefined;
  private timerAt = Infinity;
  private backstop: NodeJS.Timeout | undefined;
  /** Work started by passes (sends and their bookkeeping) that has not settled yet. */
  private pending = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly o: LoopOptions) {
    if (o.backstopMs) this.backstop = setInterval(() => this.wake(), o.backstopMs).unref();
  }

  /** When the armed timer fires (ms since the epoch, on the loop's clock); undefined when none is armed. */
  get wakeAt(): number | undefined {
    return this.cancelTimer ? this.timerAt : undefined;
  }

  /** Asks for a pass soon; many calls in one tick make one pass. */
  wake(): void {
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(this.onImmediate);
  }

  private readonly onImmediate = (): void => {
    this.scheduled = false;
    if (this.current) {
      // Read by the pass in progress once it ends: the store may have changed after it looked.
      this.again = true;
      return;
    }
    this.current = this.run().finally(this.ended);
  };

  private readonly ended = (): void => {
    this.current = undefined;
    // A wake() during the last pass's nextAt() (after it read the store): look again.
    if (this.again) {
      this.again = false;
      this.wake();
    }
  };

  private async run(): Promise<void> {
    let result: PassResult;
    try {
      do {
        this.again = false;
        result = await this.o.pass();
        if (result === 'again') this.again = true;
      } while (this.again && !this.stopped);
      if (result !== 'done' || this.stopped) return;
      const at = await this.o.nextAt();
      if (at !== null) this.arm(at);
    } catch (err) {
      this.o.log.error(this.o.name + ' failed; trying again', { err });
      this.arm(this.o.clock.now() + (this.o.retryMs ?? 1000));
    }
  }

  /** Arms the one timer for `at`, unless it already fires sooner. */
  private arm(at: number): void {
    if (this.stopped) return;
    const now = this.o.clock.now();
    // The sleep cap guards against wall-clock jumps; a virtual clock never jumps unannounced.
    const cap = this.o.clock.virtual ? Infinity : (this.o.maxSleepMs ?? MAX_SLEEP_MS);
    const when = Math.min(Math.max(at, now + 1), now + cap);
    if (this.cancelTimer && this.timerAt <= when) return;
    this.cancelTimer?.();
    this.timerAt = when;
    // On the injected clock's time: a virtual clock (api.md §15) fires it as time passes `when`.
    this.cancelTimer = setTimer(this.o.clock, this.onTimer, when - now);
  }

  private readonly onTimer = (): void => {
    this.cancelTimer = undefined;
    this.timerAt = Infinity;
    this.wake();
  };

  /** Counts `work` until it settles (stop() waits for it); a rejection is logged as `what`, never left unhandled. */
  track(work: Promise<unknown>, what: string): void {
    this.pending++;
    work.then(this.settle, (err: unknown) => {
      this.o.log.error(what, { err });
      this.settle();
    });
  }

  private readonly settle = (): void => {
    if (--this.pending > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  };

  /** True while a pass is scheduled or running. */
  get passing(): boolean {
    return this.scheduled || this.current !== undefined;
  }

  /** True while a pass is scheduled or running, or tracked work has not settled. */
  get busy(): boolean {
    return this.scheduled || this.current !== undefined || this.pending > 0;
  }

  /** Resolves once no tracked work is left. */
  private idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Stops passing and arming; waits for a pass in progress, then up to `graceMs` for tracked
   * work, then calls `interrupt` (which should make the rest settle) and waits for all of it.
   */
  async stop(graceMs = 0, interrupt?: () => void): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    clearInterval(this.backstop);
    await this.current;
    if (this.pending > 0 && graceMs > 0) {
      let grace: NodeJS.Timeout | undefined;
      await Promise.race([this.idle(), new Promise<void>((r) => (grace = setTimeout(r, graceMs)))]);
      clearTimeout(grace);
    }
    interrupt?.();
    // Settling work may start more bookkeeping (it is tracked too): wait until none is left.
    while (this.pending > 0) await this.idle();
  }
}

/** Requests in flight, each with an abort controller and a deadline (ms since the epoch), enforced by one interval. */
export class InFlight<E extends { controller: AbortController; deadline: number }> {
  private readonly map = new Map<string, E>();
  private interval: NodeJS.Timeout | undefined;

  /** `everyMs`: how often deadlines are checked (default 25). */
  constructor(
    private readonly clock: Clock,
    private readonly everyMs = 25,
  ) {}

  get size(): number {
    return this.map.size;
  }

  /** The entries in flight now, by id. */
  entries(): [string, E][] {
    return [...this.map];
  }

  get(id: string): E | undefined {
    return this.map.get(id);
  }

  add(id: string, entry: E): void {
    this.map.set(id, entry);
    this.interval ??= setInterval(this.check, this.everyMs).unref();
    // A virtual clock jumps: let it stop at this deadline, so the attempt times out exactly then.
    if (this.clock.virtual) setTimer(this.clock, this.check, entry.deadline - this.clock.now());
  }

  /** Removes `entry` only if it is still the one under `id` (a newer attempt may have replaced it). */
  delete(id: string, entry: E): void {
    if (this.map.get(id) === entry) this.map.delete(id);
  }

  /** Aborts every request with `reason` (e.g. "interrupted"). */
  abortAll(reason: string): void {
    for (const e of this.map.values()) e.controller.abort(reason);
  }

  /** Stops checking deadlines. */
  close(): void {
    clearInterval(this.interval);
    this.interval = undefined;
  }

  private readonly check = (): void => {
    if (this.map.size === 0) return this.close();
    const now = this.clock.now();
    for (const e of this.map.values()) if (now >= e.deadline) e.controller.abort('timeout');
  };
}
