// Long-polls (`?wait=S`): hold a request until the task is terminal or S seconds pass, on the
// in-process event stream (no polling of the database). Bounded by maxWaiters.
import type { TaskEvents } from '../dispatch/events.js';
import { isTerminal } from '../dispatch/events.js';
import type { Store } from '../store/store.js';
import type { Batch, Task } from '../shared/types.js';
import { ApiError } from './errors.js';

export class Waiters {
  private open = 0;

  constructor(
    private readonly store: Store,
    private readonly events: TaskEvents,
    private readonly max: number,
  ) {}

  get count(): number {
    return this.open;
  }

  /** True when no further wait can open now (maxWaiters reached). */
  get full(): boolean {
    return this.open >= this.max;
  }

  /**
   * The task once terminal, or as it is after `seconds`; undefined if it does not exist (or was
   * deleted). `signal` (the client going away) ends the wait early.
   */
  async wait(id: string, seconds: number, signal?: AbortSignal): Promise<Task | undefined> {
    let done!: () => void;
    const ended = new Promise<void>((r) => (done = r));
    // Listen first, then read: a change between the two cannot be missed.
    const off = this.events.onTask(id, (e) => {
      if (isTerminal(e.status)) done();
    });
    // Another node's change may have gone unannounced while the listening connection was down.
    const offResync = this.events.onResync(() => {
      this.store.getTask(id).then((t) => {
        if (!t || isTerminal(t.status)) done();
      }, () => undefined);
    });
    try {
      const task = await this.store.getTask(id);
      if (!task || isTerminal(task.status) || seconds <= 0) return task;
      await this.boundedWait(seconds, signal, ended);
      return this.store.getTask(id);
    } finally {
      off();
      offResync();
    }
  }

  /**
   * The batch once done, or as it is after `seconds`; undefined if it does not exist (api.md §13).
   * Driven by the event stream: a member's change to a terminal state makes one read of the
   * batch row (changes arriving while a read is under way make one more, not one each).
   */
  async waitBatch(id: string, seconds: number, signal?: AbortSignal): Promise<Batch | undefined> {
    let done!: () => void;
    const ended = new Promise<void>((r) => (done = r));
    let reading = false;
    let again = false;
    let failed: unknown;
    const read = async (): Promise<void> => {
      if (reading) {
        again = true;
        return;
      }
      reading = true;
      try {
        do {
          again = false;
          if ((await this.store.getBatch(id))?.done) done();
        } while (again);
      } catch (err) {
        failed = err;
        done();
      } finally {
        reading = false;
      }
    };
    // Listen first, then read: a change between the two cannot be missed.
    const off = this.events.on((e) => {
      if (isTerminal(e.status)) void read();
    });
    try {
      const batch = await this.store.getBatch(id);
      if (!batch || batch.done || seconds <= 0) return batch;
      await this.boundedWait(seconds, signal, ended);
      if (failed !== undefined) throw failed;
      return this.store.getBatch(id);
    } finally {
      off();
    }
  }

  /**
   * Holds one of the maxWaiters open waits until `ended` settles, `seconds` pass or `signal`
   * aborts (the client went away); 503 when all of them are open.
   */
  private async boundedWait(seconds: number, signal: AbortSignal | undefined, ended: Promise<void>): Promise<void> {
    if (this.open >= this.max) throw new ApiError(503, 'unavailable', `too many open waits (max ${this.max}); try again or wait less`);
    this.open++;
    let stop!: () => void;
    const stopped = new Promise<void>((r) => (stop = r));
    const timer = setTimeout(stop, seconds * 1000);
    signal?.addEventListener('abort', stop);
    try {
      await Promise.race([ended, stopped]);
    } finally {
      this.open--;
      clearTimeout(timer);
      signal?.removeEventListener('abort', stop);
    }
  }
}
