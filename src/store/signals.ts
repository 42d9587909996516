// The one origin of task events: a store announces every task state change it commits (a
// create, a claim, an attempt's end, a cancel, a retry, a recovery…) right after the committing
// transaction, before anything waits on the disk sync. The server's TaskEvents listens here;
// no caller of the store emits task events itself. With PostgreSQL the same changes reach the
// other nodes through NOTIFY (postgres/listen.ts) and are announced there as `remote`.
import type { TaskEvent, TaskStatus } from '../shared/types.js';
import { isoTime } from '../shared/time.js';

export type SignalListener = (events: readonly TaskEvent[], origin: 'local' | 'remote') => void;

/** Builds an event for task `id`, now in `status` after `attempts` attempts, at `now` (ms). */
export function taskEvent(id: string, queue: string, status: TaskStatus, attempts: number, now: number): TaskEvent {
  return { id, queue, status, attempts, at: isoTime(now) };
}

/**
 * Marks the `pending` event of a claim given back before its request started (api.md §12: an
 * open circuit, a full host limit, a Retry-After delay): no attempt was made, so metrics count
 * neither a dispatch nor a create or retry. A symbol key, so it never reaches JSON (SSE, NOTIFY).
 */
export const GIVEN_BACK: unique symbol = Symbol('givenBack');
export type SignalEvent = TaskEvent & { [GIVEN_BACK]?: true };

/** The event of a task given back unstarted (see GIVEN_BACK). */
export function givenBackEvent(id: string, queue: string, attempts: number, now: number): SignalEvent {
  return Object.assign(taskEvent(id, queue, 'pending', attempts, now), { [GIVEN_BACK]: true as const });
}

export class StoreSignals {
  private readonly listeners = new Set<SignalListener>();
  /**
   * Tasks whose create is being committed, with the events that arrived for them meanwhile. On
   * PostgreSQL a new row is visible to other sessions a moment before its INSERT answers, so a
   * claim (on this node's other connection, or another node's NOTIFY) can be announced before
   * the create is: such events wait here and follow the task's `pending` (see hold()).
   */
  private readonly held = new Map<string, { event: TaskEvent; origin: 'local' | 'remote' }[]>();

  /** Listens to every committed change; returns the function that stops listening. */
  on(listener: SignalListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called by the store after a commit (local), or by the listening connection for another node's commits (remote). */
  fire(events: readonly TaskEvent[], origin: 'local' | 'remote' = 'local'): void {
    this.emit(this.unheld(events, origin, false), origin);
  }

  /**
   * Holds the events of tasks `ids` until release(ids): called before their create is sent. A
   * create's own events go ahead of what was held (created()), so a task's events keep its order.
   */
  hold(ids: Iterable<string>): void {
    for (const id of ids) if (!this.held.has(id)) this.held.set(id, []);
  }

  /** Announces committed creates: at once, or, for a held task, ahead of the events held for it. */
  created(events: readonly TaskEvent[]): void {
    this.emit(this.unheld(events, 'local', true), 'local');
  }

  /** The events of tasks not held; those of held tasks join their queue (at its front for a create's own). */
  private unheld(events: readonly TaskEvent[], origin: 'local' | 'remote', front: boolean): readonly TaskEvent[] {
    if (this.held.size === 0) return events;
    const now: TaskEvent[] = [];
    for (const e of events) {
      const queue = this.held.get(e.id);
      if (!queue) now.push(e);
      else if (front) queue.unshift({ event: e, origin });
      else queue.push({ event: e, origin });
    }
    return now;
  }

  /** Ends the hold of `ids` (their create committed or failed) and announces what was held, in order. */
  release(ids: Iterable<string>): void {
    const out: { event: TaskEvent; origin: 'local' | 'remote' }[] = [];
    for (const id of ids) {
      const queue = this.held.get(id);
      if (!queue) continue;
      this.held.delete(id);
      out.push(...queue);
    }
    for (const { event, origin } of out) this.emit([event], origin);
  }

  /** Tasks held now (for tests: none once every create has settled). */
  get holding(): number {
    return this.held.size;
  }

  private emit(events: readonly TaskEvent[], origin: 'local' | 'remote'): void {
    if (events.length === 0) return;
    for (const l of this.listeners) {
      try {
        l(events, origin);
      } catch {
        // a listener's failure is not the write's
      }
    }
  }
}
