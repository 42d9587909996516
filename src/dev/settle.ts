// When work started by a virtual clock's timer has settled (api.md §15): every loop idle, or
// all that is still in flight waiting on the virtual clock itself (a sink scripted with
// ?delay=), or a real-time cap passed (a target that hangs; its deadline then follows time).
import type { VirtualClock } from '../clock.js';
import type { Loop } from '../dispatch/loop.js';

export interface SettleParts {
  loops: Loop[];
  /** Attempts and webhook deliveries in flight now. */
  inFlight: () => number;
}

/** Event-loop turns in a row a state must hold before it counts. */
const STEADY_TURNS = 3;

function turn(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** A `settle` for `clock`: resolves when `parts` are idle or blocked on the clock, or after `maxMs` of real time. */
export function settler(clock: VirtualClock, parts: SettleParts, maxMs = 5000): () => Promise<void> {
  return async () => {
    const started = performance.now();
    let steady = 0;
    while (performance.now() - started < maxMs) {
      await turn();
      const passing = parts.loops.some((l) => l.passing);
      const idle = !passing && parts.loops.every((l) => !l.busy);
      const inFlight = parts.inFlight();
      const blocked = !passing && inFlight > 0 && inFlight <= clock.sleepers;
      steady = idle || blocked ? steady + 1 : 0;
      if (steady >= STEADY_TURNS) return;
      // Real I/O (a target answering, a disk sync) takes more than a turn: do not spin.
      if (!idle && !blocked) await new Promise((r) => setTimeout(r, 1));
    }
  };
}
