// Turns between the keys of a queue with keyConcurrency (api.md §12), pure: which keys a claim
// serves and how many tasks each, given the keys that have a due task in turn order and what
// each key has in flight. Both stores gather the inputs in SQL inside the claim transaction
// and apply the plan there; this module holds the one rule they share.

/** A group of a keyed queue's tasks: a key, or null for the tasks without one. */
export type KeyGroup = string | null;

/**
 * Tasks without a key in a queue with keyConcurrency are looked for among the queue's next
 * UNKEYED_SCAN due tasks (priority, then run time): they have no index of their own, so that
 * tasks without keys in queues without keyConcurrency cost nothing extra. Give every task of a
 * keyed queue a key (README, "Keys").
 */
export const UNKEYED_SCAN = 1000;

export interface TurnsInput {
  /** Groups with a due task, in turn order: the keys after the cursor, the unkeyed group (null), the keys up to the cursor. */
  candidates: readonly KeyGroup[];
  /** Attempts in flight per key, on every node. */
  running: ReadonlyMap<string, number>;
  /** The queue's keyConcurrency (≥ 1); the unkeyed group has no cap. */
  keyConcurrency: number;
  /** Tasks the claim may start in this queue. */
  slots: number;
}

export interface TurnsPlan {
  /** How many tasks to claim of each group (it may have fewer due: the claim takes what there is). */
  take: Map<KeyGroup, number>;
  /** The group served last: the next claim starts after it. Undefined when nothing was given. */
  last: KeyGroup | undefined;
}

/**
 * Round robin over `candidates`: one task per group per round while slots remain, skipping a
 * key at its cap. A group with one due task may be asked for more in a later round; the claim
 * then starts fewer, and the next claim fills the slots.
 */
export function planTurns(i: TurnsInput): TurnsPlan {
  const take = new Map<KeyGroup, number>();
  let slots = i.slots;
  let last: KeyGroup | undefined;
  while (slots > 0) {
    let given = 0;
    for (const g of i.candidates) {
      if (slots === 0) break;
      const had = take.get(g) ?? 0;
      if (g !== null && (i.running.get(g) ?? 0) + had >= i.keyConcurrency) continue;
      take.set(g, had + 1);
      slots--;
      given++;
      last = g;
    }
    if (given === 0) break;
  }
  return { take, last };
}

/** Keys at their cap: the candidates a claim must look past to find `slots` that can start. */
export function keysAtCap(running: ReadonlyMap<string, number>, keyConcurrency: number): number {
  let n = 0;
  for (const c of running.values()) if (c >= keyConcurrency) n++;
  return n;
}
