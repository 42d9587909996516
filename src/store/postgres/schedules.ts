// SQL for schedules on PostgreSQL: upsert (keeping next_fire_at when the timing is unchanged),
// reads, delete, the runner's due query, and a firing (times + tasks in one transaction)
// guarded in its WHERE. Fire times are computed by src/schedules, never here.
import type { Schedule, ScheduleCatchUp } from '../../shared/types.js';
import type { CreateResult, DueSchedule, ScheduleFiring, ScheduleWrite } from '../store.js';
import type { PgCtx } from './context.js';
import { insertTasks } from './tasks.js';

interface ScheduleRow {
  id: string;
  cron: string;
  timezone: string | null;
  task: string;
  paused: boolean;
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
    id: r.id, cron: r.cron, timezone: r.timezone ?? 'UTC', task: JSON.parse(r.task), paused: r.paused,
    catchUp: r.catch_up, catchUpMax: r.catch_up_max, lastFireAt: iso(r.last_fire_at),
    nextFireAt: r.paused ? null : iso(r.next_fire_at), createdAt: iso(r.created_at)!, updatedAt: iso(r.updated_at)!,
  };
}

// SET expressions all read the row as it was, so the CASE sees the old cron, timezone and paused.
// updated_at moves forward by at least 1 ms per write: it is the runner's optimistic guard.
// xmax = 0 only on a freshly inserted row: whether the schedule existed, in the same statement.
const UPSERT = `INSERT INTO schedules AS s (id, cron, timezone, task, paused, catch_up, catch_up_max, next_fire_at, created_at, updated_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
  ON CONFLICT (id) DO UPDATE SET
    next_fire_at = CASE WHEN s.cron = excluded.cron AND s.timezone IS NOT DISTINCT FROM excluded.timezone AND s.paused = excluded.paused
      THEN s.next_fire_at ELSE excluded.next_fire_at END,
    cron = excluded.cron, timezone = excluded.timezone, task = excluded.task, paused = excluded.paused,
    catch_up = excluded.catch_up, catch_up_max = excluded.catch_up_max, updated_at = GREATEST(excluded.updated_at, s.updated_at + 1)
  RETURNING *, (xmax = 0) AS inserted`;

export async function putSchedule(ctx: PgCtx, s: ScheduleWrite, now: number): Promise<{ schedule: Schedule; created: boolean }> {
  const [row] = await ctx.db.query<ScheduleRow & { inserted: boolean }>(
    UPSERT,
    [s.id, s.cron, s.timezone, JSON.stringify(s.task), s.paused, s.catchUp, s.catchUpMax, s.paused ? null : s.nextFireAt, now],
    'aq_put_schedule',
  );
  return { schedule: toSchedule(row!), created: row!.inserted };
}

export async function getSchedule(ctx: PgCtx, id: string): Promise<Schedule | undefined> {
  const [row] = await ctx.db.query<ScheduleRow>('SELECT * FROM schedules WHERE id = $1', [id], 'aq_get_schedule');
  return row && toSchedule(row);
}

export async function listSchedules(ctx: PgCtx): Promise<Schedule[]> {
  return (await ctx.db.query<ScheduleRow>('SELECT * FROM schedules ORDER BY id', [], 'aq_list_schedules')).map(toSchedule);
}

export async function deleteSchedule(ctx: PgCtx, id: string): Promise<boolean> {
  return (await ctx.db.query('DELETE FROM schedules WHERE id = $1 RETURNING 1', [id], 'aq_delete_schedule')).length > 0;
}

/** Unpaused schedules due at `now`, earliest first (index schedules_next). */
export async function dueSchedules(ctx: PgCtx, now: number, limit: number): Promise<DueSchedule[]> {
  const rows = await ctx.db.query<ScheduleRow>(
    'SELECT * FROM schedules WHERE NOT paused AND next_fire_at <= $1 ORDER BY next_fire_at LIMIT $2',
    [now, limit],
    'aq_due_schedules',
  );
  return rows.map((r) => ({
    id: r.id, cron: r.cron, timezone: r.timezone ?? 'UTC', task: JSON.parse(r.task), catchUp: r.catch_up,
    catchUpMax: r.catch_up_max, nextFireAt: r.next_fire_at!, updatedAt: r.updated_at,
  }));
}

export async function nextScheduleAt(ctx: PgCtx): Promise<number | null> {
  const [r] = await ctx.db.query<{ t: number | null }>('SELECT min(next_fire_at) AS t FROM schedules WHERE NOT paused', [], 'aq_next_schedule');
  return r?.t ?? null;
}

const LAST = `last_fire_at = CASE WHEN $2::bigint IS NULL THEN last_fire_at
  WHEN last_fire_at IS NULL OR last_fire_at < $2::bigint THEN $2::bigint ELSE last_fire_at END`;

/** Updates the schedule's times, then inserts its tasks, in one transaction; nothing at all when the guard refuses. */
export async function fireSchedule(ctx: PgCtx, f: ScheduleFiring): Promise<CreateResult[] | undefined> {
  const args: unknown[] = [f.id, f.lastFireAt];
  let sql = `UPDATE schedules SET ${LAST}`;
  if (f.nextFireAt !== undefined) {
    args.push(f.nextFireAt);
    sql += `, next_fire_at = $${args.length}::bigint`;
  }
  sql += ' WHERE id = $1';
  if (f.expect) {
    args.push(f.expect.nextFireAt, f.expect.updatedAt);
    sql += ` AND NOT paused AND next_fire_at = $${args.length - 1}::bigint AND updated_at = $${args.length}::bigint`;
  }
  const committed: (() => void)[] = [];
  const out = await ctx.db.tx(async (tx) => {
    if ((await tx.query(sql + ' RETURNING 1', args)).length === 0) return undefined;
    return insertTasks(ctx, tx, f.tasks, (fn) => committed.push(fn));
  });
  for (const fn of committed) fn();
  return out;
}
