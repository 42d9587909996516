// The in-process notification of task state changes: one typed emitter that long-polls,
// SSE streams, metrics and the scheduler's cancel handling all listen to.
import type { TaskEvent, TaskStatus } from '../shared/types.js';
import { TERMINAL_STATUSES } from '../shared/types.js';
import { isoTime } from '../shared/time.js';

export type TaskListener = (event: TaskEvent) => void;

export class TaskEvents {
  private readonly listeners = new Set<TaskListener>();
  private readonly byId = new Map<string, Set<TaskListener>>();

  /** Tells every listener that task `id` is now in `status`. */
  emit(event: TaskEvent): void {
    for (const l of this.listeners) l(event);
    const set = this.byId.get(event.id);
    if (set) for (const l of [...set]) l(event);
  }

  /** Listens to every change; returns the function that stops listening. */
  on(listener: TaskListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Listens to the changes of one task; returns the function that stops listening. */
  onTask(id: string, listener: TaskListener): () => void {
    let set = this.byId.get(id);
    if (!set) this.byId.set(id, (set = new Set()));
    set.add(listener);
    return () => {
      set!.delete(listener);
      if (set!.size === 0) this.byId.delete(id);
    };
  }
}

export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Builds an event for `id` at time `now` (ms). */
export function taskEvent(id: string, queue: string, status: TaskStatus, attempts: number, now: number): TaskEvent {
  return { id, queue, status, attempts, at: isoTime(now) };
}
