// SQL for claims of a queue with keyConcurrency (api.md §12) on PostgreSQL, run by claimLimited
// inside its transaction, with the queue row locked: every node's running attempts per key are
// counted after the lock, and the key cursor is read and moved under it, so the per-key cap and
// the turns hold for the whole cluster. The keys with a due task are found by a recursive skip
// from key to key over the partial index tasks_key_due (one index probe per key, however many
// tasks one key has); the picks are one LATERAL per key.
import { keysAtCap, planTurns, UNKEYED_SCAN, type KeyGroup } from '../key-turns.js';
import { nowSql } from './context.js';
import type { Sql } from './pool.js';

// $1 queue, $2 after this key, $3 up to this key (null: no bound), $4 how many, $5 now.
const KEYS_SQL = `WITH RECURSIVE now AS (SELECT ${nowSql(5)} AS ms),
  k AS (
    (SELECT t.concurrency_key AS key, 1 AS i FROM tasks t, now
     WHERE t.status = 'pending' AND t.concurrency_key IS NOT NULL AND t.queue = $1 AND t.concurrency_key > $2 AND t.run_at <= now.ms
     ORDER BY t.concurrency_key LIMIT 1)
    UNION ALL
    SELECT (SELECT t.concurrency_key FROM tasks t, now
            WHERE t.status = 'pending' AND t.concurrency_key IS NOT NULL AND t.queue = $1 AND t.concurrency_key > k.key AND t.run_at <= now.ms
            ORDER BY t.concurrency_key LIMIT 1), k.i + 1
    FROM k WHERE k.key IS NOT NULL AND k.i < $4
  )
  SELECT key FROM k WHERE key IS NOT NULL AND ($3::text IS NULL OR key <= $3) ORDER BY i`;

const RUNNING_SQL = `SELECT concurrency_key AS k, count(*)::int AS n FROM tasks
  WHERE status = 'running' AND concurrency_key IS NOT NULL AND queue = $1 AND awaiting_since IS NULL GROUP BY concurrency_key`;

// The unkeyed group: among the next UNKEYED_SCAN due tasks of the queue (see key-turns.ts). $1 queue, $2 now, $3 how many.
const UNKEYED_SQL = `SELECT x.seq FROM (
    SELECT t.seq, t.concurrency_key, t.priority, t.run_at FROM tasks t
    WHERE t.status = 'pending' AND t.queue = $1 AND t.run_at <= ${nowSql(2)} ORDER BY t.priority DESC, t.run_at LIMIT ${UNKEYED_SCAN}
  ) x WHERE x.concurrency_key IS NULL ORDER BY x.priority DESC, x.run_at LIMIT $3`;

// $1 queue, $2 keys, $3 how many of each, $4 now. SKIP LOCKED as every claim (the queue lock already serializes these).
const OF_KEYS_SQL = `SELECT p.seq FROM unnest($2::text[], $3::int[]) AS w(key, n) CROSS JOIN LATERAL (
    SELECT t.seq FROM tasks t
    WHERE t.status = 'pending' AND t.concurrency_key IS NOT NULL AND t.queue = $1 AND t.concurrency_key = w.key AND t.run_at <= ${nowSql(4)}
    ORDER BY t.priority DESC, t.run_at LIMIT w.n FOR UPDATE SKIP LOCKED
  ) p`;

/** Attempts in flight per key of `queue`, on every node (open async attempts hold no slot, api.md §10). */
export async function runningByKey(sql: Sql, queue: string): Promise<Map<string, number>> {
  const rows = await sql.query<{ k: string; n: number }>(RUNNING_SQL, [queue], 'aq_key_running');
  return new Map(rows.map((r) => [r.k, r.n]));
}

/**
 * The seqs of the due tasks a claim of `slots` in keyed `queue` takes, in turns from the
 * queue's cursor, and moves the cursor. Call with the queue row locked; the caller marks them running.
 */
export async function pickKeyed(sql: Sql, queue: string, slots: number, keyConcurrency: number, cursor: string | null, now: number | null): Promise<number[]> {
  const running = await runningByKey(sql, queue);
  const need = slots + keysAtCap(running, keyConcurrency);
  const keys = async (after: string, upTo: string | null, max: number) =>
    max <= 0 ? [] : (await sql.query<{ key: string }>(KEYS_SQL, [queue, after, upTo, max, now], 'aq_key_turns')).map((r) => r.key);
  // Turn order: the keys after the cursor, then the tasks without a key, then the keys up to the cursor.
  const candidates: KeyGroup[] = await keys(cursor ?? '', null, need);
  let unkeyed: number[] = [];
  if (candidates.length < need) {
    unkeyed = (await sql.query<{ seq: number }>(UNKEYED_SQL, [queue, now, slots], 'aq_key_unkeyed')).map((r) => r.seq);
    if (unkeyed.length > 0) candidates.push(null);
    if (cursor !== null) candidates.push(...(await keys('', cursor, need - candidates.length)));
  }
  const plan = planTurns({ candidates, running, keyConcurrency, slots });
  const seqs: number[] = [];
  const want: [string[], number[]] = [[], []];
  for (const [g, n] of plan.take) {
    if (g === null) seqs.push(...unkeyed.slice(0, n));
    else (want[0].push(g), want[1].push(n));
  }
  if (want[0].length > 0) seqs.push(...(await sql.query<{ seq: number }>(OF_KEYS_SQL, [queue, ...want, now], 'aq_key_picks')).map((r) => r.seq));
  if (plan.last !== undefined) await sql.query('UPDATE queues SET key_cursor = $2 WHERE name = $1', [queue, plan.last], 'aq_key_cursor');
  return seqs;
}
