// The `key_concurrency` reason of api.md §11/§12: a due task whose key has keyConcurrency
// attempts in flight (on every node, as the store counts them). Reads the counts once per
// answer (prepare), for the keys of the tasks being explained; none for tasks without a key.
import type { Store } from '../store/store.js';
import type { WaitingBlocker, WaitingContext, WaitingTask } from './waiting.js';

/** The blocker for Explainer.addBlocker(). */
export function keyBlocker(store: Store): WaitingBlocker {
  // Filled by prepare() for one answer: queue → keyConcurrency, and "queue\0key" → in flight.
  let limits = new Map<string, number>();
  let inFlight = new Map<string, number>();
  const check = (t: WaitingTask) => {
    const key = t.task?.concurrencyKey;
    if (key == null) return undefined;
    const cap = limits.get(t.queue);
    const n = inFlight.get(t.queue + '\0' + key) ?? 0;
    if (cap === undefined || n < cap) return undefined;
    return {
      reason: 'key_concurrency' as const,
      message: `key ${JSON.stringify(key)} has ${n} of ${cap} attempts in flight (the keyConcurrency of queue ${JSON.stringify(t.queue)}); the task starts when one ends`,
    };
  };
  const prepare = async (tasks: readonly WaitingTask[], ctx: WaitingContext) => {
    const caps = new Map<string, number>();
    for (const [name, q] of ctx.queues) if (q.keyConcurrency != null) caps.set(name, q.keyConcurrency);
    const byQueue = new Map<string, Set<string>>();
    for (const t of tasks) {
      const key = t.task?.concurrencyKey;
      if (key == null || !caps.has(t.queue)) continue;
      let s = byQueue.get(t.queue);
      if (!s) byQueue.set(t.queue, (s = new Set()));
      s.add(key);
    }
    const counts = new Map<string, number>();
    await Promise.all(
      [...byQueue].map(async ([queue, keys]) => {
        for (const [k, n] of await store.keysInFlight(queue, [...keys])) counts.set(queue + '\0' + k, n);
      }),
    );
    limits = caps;
    inFlight = counts;
  };
  return Object.assign(check, { prepare });
}
