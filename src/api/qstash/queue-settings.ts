// What `/v2` keeps about queues beyond the store's queue row (api.md §14): when a queue was
// created and updated through `/v2` (QStash reports both), and which flow-control keys are pinned.
// Kept as settings so every node of a cluster sees them.
import type { Store } from '../../store/store.js';

const timesKey = (queue: string) => `qstash_queue:${queue}`;
const pinKey = (flowKey: string) => `qstash_flow_pin:${flowKey}`;

export interface QueueTimes {
  createdAt: number;
  updatedAt: number;
}

export async function queueTimes(store: Store, queue: string): Promise<QueueTimes | undefined> {
  const v = await store.getSetting(timesKey(queue));
  if (!v) return undefined;
  try {
    return JSON.parse(v) as QueueTimes;
  } catch {
    return undefined;
  }
}

/** Records an upsert of `queue` at `now` (created at the first one). */
export async function touchQueue(store: Store, queue: string, now: number): Promise<void> {
  const before = await queueTimes(store, queue);
  await store.setSetting(timesKey(queue), JSON.stringify({ createdAt: before?.createdAt ?? now, updatedAt: now }));
}

/** A queue first used by an enqueue is created as QStash creates it: parallelism 1. */
export async function ensureQstashQueue(store: Store, queue: string, now: number): Promise<void> {
  if (await store.getQueue(queue)) return;
  await store.updateQueue(queue, { concurrency: 1 }, now);
  await touchQueue(store, queue, now);
}

export async function isPinned(store: Store, flowKey: string): Promise<{ parallelism: boolean; rate: boolean } | undefined> {
  const v = await store.getSetting(pinKey(flowKey));
  if (!v) return undefined;
  const p = JSON.parse(v) as { parallelism: boolean; rate: boolean };
  return p.parallelism || p.rate ? p : undefined;
}

export async function setPinned(store: Store, flowKey: string, pin: { parallelism: boolean; rate: boolean }): Promise<void> {
  await store.setSetting(pinKey(flowKey), JSON.stringify(pin));
}

/** Forgets a queue's /v2 record (it was deleted). */
export async function forgetQueue(store: Store, queue: string): Promise<void> {
  await store.setSetting(timesKey(queue), '');
}
