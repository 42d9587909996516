// SQL for schedules: upsert (keeping next_fire_at when the timing is unchanged), reads, delete,
// the runner's due query, and a firing (tasks + times) guarded in its WHERE. Fire times are
// computed by src/schedules, never here.
import type { Schedule, ScheduleCatchUp } from '../../shared/types.js';
import type { CreateResult, DueSchedule, ScheduleFiring, ScheduleWrite } from '../store.js';
import type { Ctx } from './context.js';
import { insertTasks } from './tasks.js';

interface ScheduleRow {
  id: string;
  cron: string;
  timezone: string | null;
  task: string;
  paused: number;
  catch_up: ScheduleCatchUp;
  catch_up_max: number;
  last_fire_at: number | null;
  next_fire_at: number | null;
  created_at: number;
  updated_at: number;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function toSchedule(r: ScheduleRow): Schedule {
  return {
    id: r.id, cron: r.cron, timezone: r.timezone ?? 'UTC', task: JSON.parse(r.task), paused: r.paused === 1,
    catchUp: r.catch_up, catchUpMax: r.catch_up_max, lastFireAt: iso(r.last_fire_at),
    nextFireAt: r.paused === 1 ? null : iso(r.next_fire_at), createdAt: iso(r.created_at)!, updatedAt: iso(r.updated_at)!,
  };
}

// SET expressions all read the row as it was, so the CASE sees the old cron, timezone and paused.
// updated_at moves forward by at least 1 ms per write: it is the runner's optimistic guard.
const UPSERT = `INSERT INTO schedules (id, cron, timezone, task, paused, catch_up, catch_up_max, next_fire_at, created_at, updated_at)
  VALUES (@id, @cron, @timezone, @task, @paused, @catchUp, @catchUpMax, @next, @now, @now)
  ON CONFLICT (id) DO UPDATE SET
    next_fire_at = CASE WHEN cron = excluded.cron AND timezone IS excluded.timezone AND paused = excluded.paused
      THEN next_fire_at ELSE excluded.next_fire_at END,
    cron = excluded.cron, timezone = excluded.timezone, task = excluded.task, paused = excluded.paused,
    catch_up = excluded.catch_up, catch_up_max = excluded.catch_up_max, updated_at = MAX(excluded.updated_at, updated_at + 1)
  RETURNING *`;

/** Creates or replaces a schedule (inside the caller's transaction). */
export function putSchedule(ctx: Ctx, s: ScheduleWrite, now: number): { schedule: Schedule; created: boolean } {
  const existed = ctx.stmt('SELECT 1 FROM schedules WHERE id = ?').get(s.id) !== undefined;
  const row = ctx.stmt(UPSERT).get({
    id: s.id, cron: s.cron, timezone: s.timezone, task: JSON.stringify(s.task), paused: s.paused ? 1 : 0,
    catchUp: s.catchUp, catchUpMax: s.catchUpMax, next: s.paused ? null : s.nextFireAt, now,
  }) as ScheduleRow;
  return { schedule: toSchedule(row), created: !existed };
}

export function getSchedule(ctx: Ctx, id: string): Schedule | undefined {
  const row = ctx.stmt('SELECT * FROM schedules WHERE id = ?').get(id) as ScheduleRow | undefined;
  return row && toSchedule(row);
}

export function listSchedules(ctx: Ctx): Schedule[] {
  return (ctx.stmt('SELECT * FROM schedules ORDER BY id').all() as ScheduleRow[]).map(toSchedule);
}

export function deleteSchedule(ctx: Ctx, id: string): boolean {
  return ctx.stmt('DELETE FROM schedules WHERE id = ?').run(id).changes > 0;
}

/** Unpaused schedules due at `now`, earliest first (index schedules_next). */
export function dueSchedules(ctx: Ctx, now: number, limit: number): DueSchedule[] {
  const rows = ctx
    .stmt('SELECT * FROM schedules WHERE paused = 0 AND next_fire_at <= ? ORDER BY next_fire_at LIMIT ?')
    .all(now, limit) as ScheduleRow[];
  return rows.map((r) => ({
    id: r.id, cron: r.cron, timezone: r.timezone ?? 'UTC', task: JSON.parse(r.task), catchUp: r.catch_up,
    catchUpMax: r.catch_up_max, nextFireAt: r.next_fire_at!, updatedAt: r.updated_at,
  }));
}

export function nextScheduleAt(ctx: Ctx): number | null {
  const r = ctx.stmt('SELECT MIN(next_fire_at) AS t FROM schedules WHERE paused = 0').get() as { t: number | null };
  return r.t;
}

const LAST = `last_fire_at = CASE WHEN @last IS NULL THEN last_fire_at
  WHEN last_fire_at IS NULL OR last_fire_at < @last THEN @last ELSE last_fire_at END`;

/** Updates the schedule's times, then inserts its tasks; nothing at all when the guard refuses. */
export function fireSchedule(ctx: Ctx, f: ScheduleFiring): CreateResult[] | undefined {
  const args: Record<string, unknown> = { id: f.id, last: f.lastFireAt };
  let sql: string;
  if (f.nextFireAt === undefined) sql = `UPDATE schedules SET ${LAST} WHERE id = @id`;
  else {
    sql = `UPDATE schedules SET ${LAST}, next_fire_at = @next WHERE id = @id`;
    args.next = f.nextFireAt;
  }
  if (f.expect) {
    sql += ' AND paused = 0 AND next_fire_at = @expectNext AND updated_at = @expectUpdated';
    args.expectNext = f.expect.nextFireAt;
    args.expectUpdated = f.expect.updatedAt;
  }
  if (ctx.stmt(sql).run(args).changes === 0) return undefined;
  return insertTasks(ctx, f.tasks);
}
