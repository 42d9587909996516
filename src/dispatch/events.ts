// The in-process notification of task state changes: one typed emitter that long-polls,
// SSE streams, metrics and the scheduler's cancel handling all listen to. Its one source is the
// store (store.signals, see store/signals.ts): listen() connects them; nothing else emits.
import type { TaskEvent, TaskStatus } from '../shared/types.js';
import { TERMINAL_STATUSES } from '../shared/types.js';
import type { StoreSignals } from '../store/signals.js';

export { taskEvent } from '../store/signals.js';

/** `origin`: the change was committed by this node (`local`) or by another node of the cluster (`remote`, PostgreSQL). */
export type TaskListener = (event: TaskEvent, origin: 'local' | 'remote') => void;

export class TaskEvents {
  private readonly listeners = new Set<TaskListener>();
  private readonly byId = new Map<string, Set<TaskListener>>();
  private readonly resyncs = new Set<() => void>();

  /** Events may have been missed (the listening connection to the other nodes came back): listeners re-read what they wait for. */
  resync(): void {
    for (const l of [...this.resyncs]) l();
  }

  /** Called on each resync(); returns the function that stops it. */
  onResync(listener: () => void): () => void {
    this.resyncs.add(listener);
    return () => this.resyncs.delete(listener);
  }

  /** Emits every task state change the store announces (this node's commits and, on PostgreSQL, the other nodes'); returns the function that stops. */
  listen(signals: StoreSignals): () => void {
    return signals.on((events, origin) => {
      for (const e of events) this.emit(e, origin);
    });
  }

  /** Tells every listener that task `id` is now in `status`. */
  emit(event: TaskEvent, origin: 'local' | 'remote' = 'local'): void {
    for (const l of this.listeners) l(event, origin);
    const set = this.byId.get(event.id);
    if (set) for (const l of [...set]) l(event, origin);
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
