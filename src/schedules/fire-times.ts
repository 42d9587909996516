// The pure fire-time calculation of schedules: checks a cron expression and a time zone (croner
// parses; we never do), and plans which slots fire given where a schedule stands and `now`.
// No I/O, no clock: every time is an argument in ms. The runner (runner.ts) applies the plan.
import { Cron } from 'croner';
import type { ScheduleCatchUp } from '../shared/types.js';

/** A slot more than this late (ms) counts as missed even while the server runs: a long store outage, a suspended machine. */
export const LATE_MS = 60_000;
/** Most on-time slots one plan fires (bounds every loop; a per-second cron has at most 61 within LATE_MS). */
export const MAX_ON_TIME = 1000;

/** Why a cron expression or time zone was refused; `field` is the body field to blame. */
export class ScheduleSpecError extends Error {
  override name = 'ScheduleSpecError';
  constructor(
    readonly field: 'cron' | 'timezone',
    message: string,
  ) {
    super(message);
  }
}

/** The IANA name of `timezone` in its canonical spelling ("europe/berlin" → "Europe/Berlin"); throws ScheduleSpecError. */
export function canonicalZone(timezone: string): string {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: timezone }).resolvedOptions().timeZone;
  } catch {
    throw new ScheduleSpecError('timezone', `unknown time zone "${timezone}"; use an IANA name such as "Europe/Berlin" or "UTC"`);
  }
}

/**
 * Parses `cron` (5 fields, or 6 with seconds first; names like MON-FRI and JAN; nicknames like
 * `@daily`) for `timezone` (an IANA name). Throws ScheduleSpecError with croner's reason, or when
 * the expression can never fire (e.g. `0 0 30 2 *`).
 */
export function compileCron(cron: string, timezone: string): Cron {
  const zone = canonicalZone(timezone);
  let job: Cron;
  try {
    job = new Cron(cron.trim(), { timezone: zone, mode: '5-or-6-parts' });
  } catch (err) {
    const reason = (err as Error).message.replace(/^CronPattern: /, '');
    throw new ScheduleSpecError('cron', `invalid cron expression "${cron}": ${reason}`);
  }
  if (job.nextRun(new Date(0)) === null) throw new ScheduleSpecError('cron', `cron expression "${cron}" never fires`);
  return job;
}

/** The first slot strictly after `after` (ms), or null when there is none. */
export function nextFireAfter(job: Cron, after: number): number | null {
  return job.nextRun(new Date(after))?.getTime() ?? null;
}

/** Every slot in [from, to] (ms, both inclusive), oldest first, at most `limit` (default MAX_ON_TIME). */
export function fireTimesBetween(job: Cron, from: number, to: number, limit = MAX_ON_TIME): number[] {
  const out: number[] = [];
  // croner searches strictly after a whole second: start just before `from` to include it.
  let t = nextFireAfter(job, from - 1);
  while (t !== null && t <= to && out.length < limit) {
    out.push(t);
    t = nextFireAfter(job, t);
  }
  return out;
}

/** Where a schedule stands, and the moment of the plan. */
export interface PlanInput {
  job: Cron;
  /** The schedule's next_fire_at: its earliest slot not fired yet (ms). */
  from: number;
  now: number;
  /** Slots before this (ms) are missed: the runner's start, or `now - LATE_MS` if later. */
  missedBefore: number;
  catchUp: ScheduleCatchUp;
  /** Most missed slots `all` fires (the latest ones). */
  catchUpMax: number;
}

export interface FirePlan {
  /** Slots to fire now, oldest first. */
  fire: number[];
  /** Missed slots in [from, missedBefore) left unfired by the catch-up rule (a lower bound when many). */
  skipped: number;
  /** The new next_fire_at: first slot after the plan's last considered slot, null if none. */
  next: number | null;
}

/**
 * Which slots fire now. Slots in [max(from, missedBefore), now] are on time and all fire (up
 * to MAX_ON_TIME). Missed slots in [from, missedBefore) follow `catchUp`: `none` fires none,
 * `latest` fires the most recent one unless an on-time slot fires anyway, `all` fires the
 * latest `catchUpMax`.
 */
export function planFires(p: PlanInput): FirePlan {
  if (p.now < p.from) return { fire: [], skipped: 0, next: p.from };
  const onTimeFrom = Math.max(p.from, p.missedBefore);
  const onTime = fireTimesBetween(p.job, onTimeFrom, p.now);
  let missed: number[] = [];
  if (p.from < p.missedBefore) {
    // Only the latest few missed slots can matter; previousRuns is bounded, a week of seconds is not.
    const want = Math.max(1, Math.min(p.catchUpMax, MAX_ON_TIME));
    missed = p.job
      .previousRuns(want + 1, new Date(p.missedBefore))
      .map((d) => d.getTime())
      .filter((t) => t >= p.from && t < p.missedBefore)
      .reverse();
  }
  let catchUp: number[] = [];
  if (p.catchUp === 'all') catchUp = missed.slice(-Math.max(0, p.catchUpMax));
  else if (p.catchUp === 'latest' && onTime.length === 0) catchUp = missed.slice(-1);
  const fire = [...catchUp, ...onTime];
  // When MAX_ON_TIME cut the on-time slots short, continue after the last one fired (next pass).
  const after = onTime.length === MAX_ON_TIME ? onTime[onTime.length - 1]! : p.now;
  return { fire, skipped: missed.length - catchUp.length, next: nextFireAfter(p.job, after) };
}
