// SQL for queues (limits, pause), counts by state (kept by triggers, summed over shards) and
// per-minute stats on PostgreSQL.
import type { Queue, QueueUpdate, Stats, TaskStatus } from '../../shared/types.js';
import { TASK_STATUSES } from '../../shared/types.js';
import type { QueueLimits } from '../store.js';
import type { PgCtx } from './context.js';

interface QueueRow {
  name: string;
  concurrency: number | null;
  rate_per_second: number | null;
  key_concurrency: number | null;
  paused: boolean;
}

function zeroCounts(): Record<TaskStatus, number> {
  return Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
}

async function countsByQueue(ctx: PgCtx, queue?: string): Promise<Map<string, Record<TaskStatus, number>>> {
  const rows = queue === undefined
    ? await ctx.db.query<{ queue: string; status: TaskStatus; n: number }>('SELECT queue, status, sum(n)::bigint AS n FROM counts GROUP BY queue, status', [], 'aq_counts')
    : await ctx.db.query<{ queue: string; status: TaskStatus; n: number }>(
        'SELECT queue, status, sum(n)::bigint AS n FROM counts WHERE queue = $1 GROUP BY queue, status', [queue], 'aq_counts_queue');
  const out = new Map<string, Record<TaskStatus, number>>();
  for (const r of rows) {
    let c = out.get(r.queue);
    if (!c) out.set(r.queue, (c = zeroCounts()));
    if (r.status in c) c[r.status] = r.n;
  }
  return out;
}

function toQueue(r: QueueRow, counts: Record<TaskStatus, number> | undefined): Queue {
  return { name: r.name, concurrency: r.concurrency, ratePerSecond: r.rate_per_second, keyConcurrency: r.key_concurrency,
    paused: r.paused, counts: counts ?? zeroCounts() };
}

export async function listQueues(ctx: PgCtx): Promise<Queue[]> {
  const [counts, rows] = await Promise.all([
    countsByQueue(ctx),
    ctx.db.query<QueueRow>('SELECT name, concurrency, rate_per_second, key_concurrency, paused FROM queues ORDER BY name', [], 'aq_list_queues'),
  ]);
  return rows.map((r) => toQueue(r, counts.get(r.name)));
}

export async function getQueue(ctx: PgCtx, name: string): Promise<Queue | undefined> {
  const [[r], counts] = await Promise.all([
    ctx.db.query<QueueRow>('SELECT name, concurrency, rate_per_second, key_concurrency, paused FROM queues WHERE name = $1', [name], 'aq_get_queue'),
    countsByQueue(ctx, name),
  ]);
  return r && toQueue(r, counts.get(name));
}

/** Creates the queue if needed and applies the fields present in `u` (null clears a limit), in one statement. */
export async function updateQueue(ctx: PgCtx, name: string, u: QueueUpdate, now: number): Promise<Queue> {
  const [r] = await ctx.db.query<QueueRow>(
    `INSERT INTO queues AS q (name, created_at, concurrency, rate_per_second, paused, key_concurrency) VALUES ($1, $2, $4, $6, COALESCE($8, false), $10)
     ON CONFLICT (name) DO UPDATE SET
       concurrency = CASE WHEN $3 THEN excluded.concurrency ELSE q.concurrency END,
       rate_per_second = CASE WHEN $5 THEN excluded.rate_per_second ELSE q.rate_per_second END,
       paused = CASE WHEN $7 THEN excluded.paused ELSE q.paused END,
       key_concurrency = CASE WHEN $9 THEN excluded.key_concurrency ELSE q.key_concurrency END
     RETURNING name, concurrency, rate_per_second, key_concurrency, paused`,
    [name, now, u.concurrency !== undefined, u.concurrency ?? null, u.ratePerSecond !== undefined, u.ratePerSecond ?? null, u.paused !== undefined, u.paused ?? null,
      u.keyConcurrency !== undefined, u.keyConcurrency ?? null],
    'aq_update_queue',
  );
  ctx.knownQueues.add(name);
  return toQueue(r!, (await countsByQueue(ctx, name)).get(name));
}

/**
 * Deletes the queue row unless a pending or running task still uses it. The check runs again
 * after the delete, in a fresh snapshot of the same transaction, so a task committed meanwhile
 * by another node keeps its queue.
 */
export async function deleteQueue(ctx: PgCtx, name: string): Promise<boolean> {
  const busy = `EXISTS (SELECT 1 FROM tasks WHERE queue = $1 AND status IN ('pending', 'running'))`;
  const gone = await ctx.db.tx(async (sql) => {
    const rows = await sql.query(`DELETE FROM queues WHERE name = $1 AND NOT ${busy} RETURNING 1`, [name], 'aq_delete_queue');
    if (rows.length === 0) return false;
    const [again] = await sql.query<{ busy: boolean }>(`SELECT ${busy} AS busy`, [name], 'aq_queue_busy');
    if (again!.busy) throw Object.assign(new Error('queue in use'), { busy: true });
    return true;
  }).catch((err: { busy?: boolean }) => {
    if (err?.busy) return false;
    throw err;
  });
  ctx.knownQueues.delete(name);
  return gone;
}

export async function queueLimits(ctx: PgCtx): Promise<QueueLimits[]> {
  const rows = await ctx.db.query<QueueRow>('SELECT name, concurrency, rate_per_second, key_concurrency, paused FROM queues ORDER BY name', [], 'aq_queue_limits');
  return rows.map((r) => ({
    name: r.name, concurrency: r.concurrency, ratePerSecond: r.rate_per_second, keyConcurrency: r.key_concurrency, paused: r.paused,
  }));
}

/** Counts by state and queue, and the last hour per minute (oldest first, empty minutes included). */
export async function stats(ctx: PgCtx, now: number, inFlight: number): Promise<Stats> {
  const current = Math.floor(now / 60000);
  const [byQueue, rows] = await Promise.all([
    countsByQueue(ctx),
    ctx.db.query<{ minute: number; dispatched: number; completed: number; failed: number }>(
      `SELECT minute, sum(dispatched)::bigint AS dispatched, sum(completed)::bigint AS completed, sum(failed)::bigint AS failed
       FROM minute_stats WHERE minute > $1 GROUP BY minute`,
      [current - 60],
      'aq_minute_stats',
    ),
  ]);
  const total = zeroCounts();
  const queues: Stats['queues'] = {};
  for (const [q, c] of byQueue) {
    queues[q] = c;
    for (const s of TASK_STATUSES) total[s] += c[s];
  }
  const byMinute = new Map(rows.map((r) => [r.minute, r]));
  const perMinute: Stats['perMinute'] = [];
  for (let m = current - 59; m <= current; m++) {
    const r = byMinute.get(m);
    perMinute.push({ minute: new Date(m * 60000).toISOString(), dispatched: r?.dispatched ?? 0, completed: r?.completed ?? 0, failed: r?.failed ?? 0 });
  }
  return { counts: total, queues, perMinute, inFlight };
}
