// SQL for claims of a queue with keyConcurrency (api.md §12) on SQLite: the running attempts of
// each key, the keys with a due task in turn order from the queue's key cursor (a skip from key
// to key over the partial index tasks_key_due: one seek per key, however many tasks a key has),
// and the claim of the planned number of each. Runs inside the claim's transaction, so counts
// and the cursor are exact (SQLite has one writer).
import { keysAtCap, planTurns, UNKEYED_SCAN, type KeyGroup } from '../key-turns.js';
import type { Ctx } from './context.js';

const NEXT_KEY = `SELECT concurrency_key AS k FROM tasks INDEXED BY tasks_key_due
  WHERE status = 'pending' AND concurrency_key IS NOT NULL AND queue = ? AND concurrency_key > ? AND run_at <= ?
  ORDER BY concurrency_key LIMIT 1`;
const RUNNING = `SELECT concurrency_key AS k, count(*) AS n FROM tasks INDEXED BY tasks_key_running
  WHERE status = 'running' AND concurrency_key IS NOT NULL AND queue = ? AND awaiting_since IS NULL GROUP BY concurrency_key`;
// The unkeyed group: among the next UNKEYED_SCAN due tasks of the queue (see key-turns.ts).
const UNKEYED = `SELECT seq FROM (SELECT seq, concurrency_key AS k, priority, run_at FROM tasks INDEXED BY tasks_due
    WHERE status = 'pending' AND queue = ? AND run_at <= ? ORDER BY priority DESC, run_at LIMIT ${UNKEYED_SCAN})
  WHERE k IS NULL ORDER BY priority DESC, run_at LIMIT ?`;
const OF_KEY = `SELECT seq FROM tasks INDEXED BY tasks_key_due
  WHERE status = 'pending' AND concurrency_key IS NOT NULL AND queue = ? AND concurrency_key = ? AND run_at <= ?
  ORDER BY priority DESC, run_at LIMIT ?`;

/** Attempts in flight per key of `queue` (open async attempts hold no slot, api.md §10). */
export function runningByKey(ctx: Ctx, queue: string): Map<string, number> {
  return new Map((ctx.stmt(RUNNING).all(queue) as { k: string; n: number }[]).map((r) => [r.k, r.n]));
}

/**
 * The seqs of the due tasks a claim of `slots` in keyed `queue` takes, in turns from the
 * queue's cursor, and moves the cursor. The caller marks them running.
 */
export function pickKeyed(ctx: Ctx, queue: string, slots: number, keyConcurrency: number, now: number): number[] {
  const running = runningByKey(ctx, queue);
  const need = slots + keysAtCap(running, keyConcurrency);
  const cursor = (ctx.stmt('SELECT key_cursor AS c FROM queues WHERE name = ?').get(queue) as { c: string | null } | undefined)?.c ?? null;
  const next = ctx.stmt(NEXT_KEY);
  const keys = (after: string, upTo: string | null, max: number): string[] => {
    const out: string[] = [];
    let k = after;
    while (out.length < max) {
      const r = next.get(queue, k, now) as { k: string } | undefined;
      if (!r || (upTo !== null && r.k > upTo)) break;
      out.push((k = r.k));
    }
    return out;
  };
  // Turn order: the keys after the cursor, then the tasks without a key, then the keys up to the cursor.
  const candidates: KeyGroup[] = keys(cursor ?? '', null, need);
  let unkeyed: number[] | undefined;
  if (candidates.length < need) {
    unkeyed = ctx.stmt(UNKEYED).pluck().all(queue, now, slots) as number[];
    if (unkeyed.length > 0) candidates.push(null);
    if (cursor !== null) candidates.push(...keys('', cursor, need - candidates.length));
  }
  const plan = planTurns({ candidates, running, keyConcurrency, slots });
  const seqs: number[] = [];
  const ofKey = ctx.stmt(OF_KEY).pluck();
  for (const [g, n] of plan.take) {
    if (g === null) seqs.push(...unkeyed!.slice(0, n));
    else seqs.push(...(ofKey.all(queue, g, now, n) as number[]));
  }
  if (plan.last !== undefined) ctx.stmt('UPDATE queues SET key_cursor = ? WHERE name = ?').run(plan.last, queue);
  return seqs;
}
