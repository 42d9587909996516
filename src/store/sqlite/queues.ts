// SQL for queues (limits, pause), counts by state (kept by each write's deltas, applied once per
// group commit; see context.ts) and per-minute stats.
import type { Queue, QueueUpdate, Stats, TaskStatus } from '../../shared/types.js';
import { TASK_STATUSES } from '../../shared/types.js';
import type { QueueLimits } from '../store.js';
import type { Ctx } from './context.js';

interface QueueRow {
  name: string;
  concurrency: number | null;
  rate_per_second: number | null;
  key_concurrency: number | null;
  paused: number;
}

function zeroCounts(): Record<TaskStatus, number> {
  return Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
}

function countsByQueue(ctx: Ctx): Map<string, Record<TaskStatus, number>> {
  const out = new Map<string, Record<TaskStatus, number>>();
  for (const r of ctx.stmt('SELECT queue, status, n FROM counts').all() as { queue: string; status: TaskStatus; n: number }[]) {
    let c = out.get(r.queue);
    if (!c) out.set(r.queue, (c = zeroCounts()));
    c[r.status] = r.n;
  }
  return out;
}

function toQueue(r: QueueRow, counts: Record<TaskStatus, number> | undefined): Queue {
  return { name: r.name, concurrency: r.concurrency, ratePerSecond: r.rate_per_second, keyConcurrency: r.key_concurrency,
    paused: r.paused === 1, counts: counts ?? zeroCounts() };
}

export function listQueues(ctx: Ctx): Queue[] {
  const counts = countsByQueue(ctx);
  return (ctx.stmt('SELECT name, concurrency, rate_per_second, key_concurrency, paused FROM queues ORDER BY name').all() as QueueRow[]).map((r) =>
    toQueue(r, counts.get(r.name)),
  );
}

export function getQueue(ctx: Ctx, name: string): Queue | undefined {
  const r = ctx.stmt('SELECT name, concurrency, rate_per_second, key_concurrency, paused FROM queues WHERE name = ?').get(name) as QueueRow | undefined;
  return r && toQueue(r, countsByQueue(ctx).get(name));
}

/** Creates the queue if needed and applies the fields present in `u` (null clears a limit). */
export function updateQueue(ctx: Ctx, name: string, u: QueueUpdate, now: number): Queue {
  ctx.stmt('INSERT OR IGNORE INTO queues (name, created_at) VALUES (?, ?)').run(name, now);
  ctx.queuesVersion++;
  if (u.concurrency !== undefined) ctx.stmt('UPDATE queues SET concurrency = ? WHERE name = ?').run(u.concurrency, name);
  if (u.ratePerSecond !== undefined) ctx.stmt('UPDATE queues SET rate_per_second = ? WHERE name = ?').run(u.ratePerSecond, name);
  if (u.keyConcurrency !== undefined) ctx.stmt('UPDATE queues SET key_concurrency = ? WHERE name = ?').run(u.keyConcurrency, name);
  if (u.paused !== undefined) ctx.stmt('UPDATE queues SET paused = ? WHERE name = ?').run(u.paused ? 1 : 0, name);
  return getQueue(ctx, name)!;
}

/** Deletes the queue row unless a pending or running task still uses it (guarded in SQL). */
export function deleteQueue(ctx: Ctx, name: string): boolean {
  const gone = ctx.stmt(`DELETE FROM queues WHERE name = ? AND NOT EXISTS
    (SELECT 1 FROM tasks WHERE queue = ? AND status IN ('pending', 'running'))`).run(name, name).changes > 0;
  if (gone) ctx.forgetQueue(name);
  return gone;
}

export function queueLimits(ctx: Ctx): QueueLimits[] {
  return (ctx.stmt('SELECT name, concurrency, rate_per_second, key_concurrency, paused FROM queues').all() as QueueRow[]).map((r) => ({
    name: r.name, concurrency: r.concurrency, ratePerSecond: r.rate_per_second, keyConcurrency: r.key_concurrency, paused: r.paused === 1,
  }));
}

/** Counts by state and queue, and the last hour per minute (oldest first, empty minutes included). */
export function stats(ctx: Ctx, now: number, inFlight: number): Stats {
  const byQueue = countsByQueue(ctx);
  const total = zeroCounts();
  const queues: Stats['queues'] = {};
  for (const [q, c] of byQueue) {
    queues[q] = c;
    for (const s of TASK_STATUSES) total[s] += c[s];
  }
  const current = Math.floor(now / 60000);
  const rows = ctx.stmt('SELECT minute, dispatched, completed, failed FROM minute_stats WHERE minute > ? ORDER BY minute').all(current - 60) as {
    minute: number; dispatched: number; completed: number; failed: number;
  }[];
  const byMinute = new Map(rows.map((r) => [r.minute, r]));
  const perMinute: Stats['perMinute'] = [];
  for (let m = current - 59; m <= current; m++) {
    const r = byMinute.get(m);
    perMinute.push({ minute: new Date(m * 60000).toISOString(), dispatched: r?.dispatched ?? 0, completed: r?.completed ?? 0, failed: r?.failed ?? 0 });
  }
  return { counts: total, queues, perMinute, inFlight };
}
