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

  /** Listens to every committed change; returns the function that stops listening. */
  on(listener: SignalListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called by the store after a commit (local), or by the listening connection for another node's commits (remote). */
  fire(events: readonly TaskEvent[], origin: 'local' | 'remote' = 'local'): void {
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
