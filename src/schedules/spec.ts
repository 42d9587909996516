// A schedule's defaults, applied in one place, and the two conversions the API and the runner
// share: a validated body to the store's ScheduleWrite, and one fire time to a NewTask.
import { toNewTask, type NewTask } from '../shared/defaults.js';
import { newId } from '../shared/ids.js';
import type { CreateTaskInput, ScheduleCatchUp, ScheduleInput } from '../shared/types.js';
import type { ScheduleWrite } from '../store/store.js';
import { canonicalZone, compileCron, nextFireAfter } from './fire-times.js';

/** Defaults of a schedule body: UTC, unpaused, fire the latest missed slot once, at most 10 with `all`. */
export const SCHEDULE_DEFAULTS = Object.freeze({ timezone: 'UTC', paused: false, catchUp: 'latest' as ScheduleCatchUp, catchUpMax: 10 });

/** User-given schedule ids: `[A-Za-z0-9_.-]{1,64}`. */
export const SCHEDULE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

/** A generated schedule id: "sch_" + time + random, like task ids. */
export function newScheduleId(now: number): string {
  return newId(now, 'sch_');
}

/**
 * Applies defaults, checks cron and time zone, and computes the first fire time strictly after
 * `now` (ms). Throws ScheduleSpecError (fire-times.ts) for a bad expression or zone.
 */
export function toScheduleWrite(input: ScheduleInput & { id: string }, now: number): ScheduleWrite {
  const timezone = canonicalZone(input.timezone ?? SCHEDULE_DEFAULTS.timezone);
  const cron = input.cron.trim();
  const job = compileCron(cron, timezone);
  const paused = input.paused ?? SCHEDULE_DEFAULTS.paused;
  return {
    id: input.id, cron, timezone, task: input.task, paused,
    catchUp: input.catchUp ?? SCHEDULE_DEFAULTS.catchUp, catchUpMax: input.catchUpMax ?? SCHEDULE_DEFAULTS.catchUpMax,
    nextFireAt: paused ? null : nextFireAfter(job, now),
  };
}

/** The idempotency key of a schedule's fire time: one task per slot, however often it is tried. */
export function fireKey(scheduleId: string, fireTime: number): string {
  return `sch:${scheduleId}:${fireTime}`;
}

/** The task a firing creates at `now` (ms): the schedule's body with its id, keyed by `fireTime` (null for a manual trigger). */
export function firingTask(scheduleId: string, task: CreateTaskInput, fireTime: number | null, now: number): NewTask {
  return toNewTask(task, now, { scheduleId, idempotencyKey: fireTime === null ? null : fireKey(scheduleId, fireTime) });
}
