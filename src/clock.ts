// The time source every long-lived component is given: `now()` and timers on that time.
// systemClock is the wall clock; VirtualClock (serve --dev --clock virtual, api.md §15) moves
// only when told to, firing the timers it passes in order, so a week of retries takes ms.

/** A time source in milliseconds since the epoch, and timers that follow it. */
export interface Clock {
  now(): number;
  /**
   * Runs `fn` once `ms` milliseconds of this clock's time have passed; returns a function that
   * cancels it. Never keeps the process alive. Absent on hand-made clocks: `setTimer()` then
   * falls back to the wall clock's timers.
   */
  setTimer?(fn: () => void, ms: number): () => void;
  /** True for a clock that moves only when told to (VirtualClock). */
  readonly virtual?: boolean;
}

function realTimer(fn: () => void, ms: number): () => void {
  const t = setTimeout(fn, Math.max(0, ms));
  t.unref?.();
  return () => clearTimeout(t);
}

export const systemClock: Clock = { now: () => Date.now(), setTimer: realTimer };

/** A timer on `clock`'s time (the wall clock's when the clock has no timers of its own). */
export function setTimer(clock: Clock, fn: () => void, ms: number): () => void {
  return clock.setTimer ? clock.setTimer(fn, ms) : realTimer(fn, ms);
}

/** Resolves after `ms` of `clock`'s time, or at once when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    if (clock instanceof VirtualClock) clock.sleepers++;
    const done = () => {
      if (clock instanceof VirtualClock) clock.sleepers--;
      cancel();
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const cancel = setTimer(clock, done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

interface VirtualTimer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Real-time pause between firings so promise chains, store commits and local I/O settle. */
function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/**
 * A clock whose time moves only by `advance()`. Timers fire in time order as time passes
 * them; after each firing, `advance` waits for the work it started to settle (see `settle`)
 * before moving on, so a retry armed by an attempt that ended is itself reached in the same
 * advance.
 */
export class VirtualClock implements Clock {
  readonly virtual = true;
  private time: number;
  private seq = 0;
  private timers: VirtualTimer[] = [];
  private moving: Promise<number> = Promise.resolve(0);
  /** `sleep()` calls waiting on this clock now (e.g. a request sink scripted to be slow). */
  sleepers = 0;
  /**
   * Resolves when work started by a timer has settled (the server sets it to wait for its
   * attempts and deliveries in flight); the default waits a few event-loop turns.
   */
  settle: () => Promise<void> = async () => {
    for (let i = 0; i < 3; i++) await turn();
  };

  constructor(start = Date.now()) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  setTimer(fn: () => void, ms: number): () => void {
    const timer: VirtualTimer = { at: this.time + Math.max(0, ms), seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      const i = this.timers.indexOf(timer);
      if (i >= 0) this.timers.splice(i, 1);
    };
  }

  /** Timers armed and not yet fired. */
  get pending(): number {
    return this.timers.length;
  }

  /**
   * Moves time forward by `ms` (≥ 0), firing every timer due on the way in order; resolves
   * with the new time once the work they started has settled. Calls run one after another.
   */
  advance(ms: number): Promise<number> {
    if (!Number.isFinite(ms) || ms < 0) return Promise.reject(new RangeError(`cannot move a clock back or by ${ms} ms`));
    const run = async () => {
      const target = this.time + ms;
      await this.settle();
      for (let fired = 0; ; fired++) {
        const next = this.earliest();
        if (!next || next.at > target) break;
        if (fired > 1_000_000) throw new Error('more than a million timers fired in one advance');
        this.timers.splice(this.timers.indexOf(next), 1);
        this.time = Math.max(this.time, next.at);
        try {
          next.fn();
        } catch {
          // a timer's own failure is its owner's to report; time goes on
        }
        await this.settle();
      }
      this.time = target;
      await this.settle();
      return this.time;
    };
    const result = this.moving.then(run, run);
    this.moving = result.catch(() => this.time);
    return result;
  }

  /** Moves time to `at` (ms); a time in the past is refused. */
  advanceTo(at: number): Promise<number> {
    return this.advance(at - this.time);
  }

  private earliest(): VirtualTimer | undefined {
    let best: VirtualTimer | undefined;
    for (const t of this.timers) if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    return best;
  }
}
