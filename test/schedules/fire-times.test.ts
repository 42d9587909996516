// The pure fire-time calculation: cron syntax through croner, time zones across DST changes,
// and the catch-up plan as tables of (from, now, missedBefore, catchUp) → fire times.
import { describe, expect, it } from 'vitest';
import { canonicalZone, compileCron, fireTimesBetween, LATE_MS, nextFireAfter, planFires, ScheduleSpecError } from '../../src/schedules/fire-times.js';

const at = (iso: string) => Date.parse(iso);
const isoAll = (ts: number[]) => ts.map((t) => new Date(t).toISOString());
/** Wall-clock time of `t` in `zone`, as "YYYY-MM-DD HH:mm ±offset". */
function wall(t: number, zone: string): string {
  const f = new Intl.DateTimeFormat('sv-SE', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', timeZoneName: 'shortOffset' });
  return f.format(new Date(t));
}

describe('compileCron', () => {
  it('reads 5 fields, 6 with seconds first, names of days and months, and nicknames', () => {
    const from = at('2026-01-02T10:00:00Z'); // a Friday
    expect(nextFireAfter(compileCron('0 3 * * *', 'UTC'), from)).toBe(at('2026-01-03T03:00:00Z'));
    expect(nextFireAfter(compileCron('*/5 * * * * *', 'UTC'), from)).toBe(at('2026-01-02T10:00:05Z'));
    expect(nextFireAfter(compileCron('0 9 * * MON-FRI', 'UTC'), from)).toBe(at('2026-01-05T09:00:00Z'));
    expect(nextFireAfter(compileCron('0 0 1 jul *', 'UTC'), from)).toBe(at('2026-07-01T00:00:00Z'));
    expect(nextFireAfter(compileCron('@hourly', 'UTC'), from)).toBe(at('2026-01-02T11:00:00Z'));
    expect(nextFireAfter(compileCron('0 3 * * *', 'Europe/Berlin'), from)).toBe(at('2026-01-03T02:00:00Z'));
  });

  it.each([
    ['61 * * * *', /invalid cron expression "61 \* \* \* \*": .*minute/],
    ['* * *', /exactly 5 or 6 parts|five, six/],
    ['0 0 * * * * 2026', /5 or 6 parts/],
    ['MON * * * *', /illegal characters/],
    ['0 0 30 2 *', /never fires/],
  ])('refuses %s with the reason', (cron, reason) => {
    let err: unknown;
    try {
      compileCron(cron, 'UTC');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScheduleSpecError);
    expect((err as ScheduleSpecError).field).toBe('cron');
    expect((err as Error).message).toMatch(reason);
  });

  it('refuses an unknown time zone and spells known ones canonically', () => {
    expect(() => compileCron('* * * * *', 'Mars/Olympus')).toThrow(/unknown time zone "Mars\/Olympus"/);
    expect(canonicalZone('europe/berlin')).toBe('Europe/Berlin');
    expect(canonicalZone('UTC')).toBe('UTC');
  });
});

describe('fire times across daylight-saving changes in Europe/Berlin', () => {
  const job = compileCron('30 2 * * *', 'Europe/Berlin');

  it('on 2026-03-29, when 02:30 does not exist, fires once at 03:00 CEST, then 02:30 again', () => {
    const times = fireTimesBetween(job, at('2026-03-28T00:00:00Z'), at('2026-03-31T00:00:00Z'));
    expect(isoAll(times)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
    expect(times.map((t) => wall(t, 'Europe/Berlin'))).toEqual(['2026-03-28 02:30 GMT+1', '2026-03-29 03:00 GMT+2', '2026-03-30 02:30 GMT+2']);
  });

  it('on 2026-10-25, when 02:30 happens twice, fires once, at the first 02:30 (CEST)', () => {
    const times = fireTimesBetween(job, at('2026-10-24T00:00:00Z'), at('2026-10-27T00:00:00Z'));
    expect(isoAll(times)).toEqual(['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z']);
    expect(times.map((t) => wall(t, 'Europe/Berlin'))).toEqual(['2026-10-24 02:30 GMT+2', '2026-10-25 02:30 GMT+2', '2026-10-26 02:30 GMT+1']);
  });

  it('an interval expression keeps its real spacing through the repeated hour', () => {
    const every30 = compileCron('*/30 * * * *', 'Europe/Berlin');
    const times = fireTimesBetween(every30, at('2026-10-25T00:00:00Z'), at('2026-10-25T01:30:00Z'));
    expect(times.map((t) => wall(t, 'Europe/Berlin'))).toEqual(['2026-10-25 02:00 GMT+2', '2026-10-25 02:30 GMT+2', '2026-10-25 02:00 GMT+1', '2026-10-25 02:30 GMT+1']);
  });

  it('the plan follows the same slots: a schedule left at 2026-03-28 02:30 fires through the gap with catchUp all', () => {
    const plan = planFires({ job, from: at('2026-03-28T01:30:00Z'), now: at('2026-03-30T12:00:00Z'), missedBefore: at('2026-03-28T01:30:00Z'), catchUp: 'all', catchUpMax: 10 });
    expect(isoAll(plan.fire)).toEqual(['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z']);
    expect(plan.next).toBe(at('2026-03-31T00:30:00Z'));
  });
});

describe('planFires', () => {
  const hourly = compileCron('0 * * * *', 'UTC');
  const from = at('2026-01-01T11:00:00Z'); // next_fire_at when the server stopped at 10:20
  const restart = at('2026-01-01T13:30:00Z'); // slots 11:00, 12:00, 13:00 were missed
  const base = { job: hourly, from, now: restart, missedBefore: restart, catchUpMax: 10 };

  it.each([
    ['none', [], 3],
    ['latest', ['2026-01-01T13:00:00.000Z'], 2],
    ['all', ['2026-01-01T11:00:00.000Z', '2026-01-01T12:00:00.000Z', '2026-01-01T13:00:00.000Z'], 0],
  ] as const)('after a stop, catchUp %s fires %j', (catchUp, fire, skipped) => {
    const plan = planFires({ ...base, catchUp });
    expect(isoAll(plan.fire)).toEqual(fire);
    expect(plan.skipped).toBe(skipped);
    expect(plan.next).toBe(at('2026-01-01T14:00:00Z'));
  });

  it('catchUp all fires only the latest catchUpMax missed slots', () => {
    const plan = planFires({ ...base, catchUp: 'all', catchUpMax: 2 });
    expect(isoAll(plan.fire)).toEqual(['2026-01-01T12:00:00.000Z', '2026-01-01T13:00:00.000Z']);
  });

  it('a week of missed per-second slots plans at most catchUpMax fires, quickly', () => {
    const perSecond = compileCron('* * * * * *', 'UTC');
    const now = at('2026-01-08T00:00:00.400Z');
    const plan = planFires({ job: perSecond, from: at('2026-01-01T00:00:00Z'), now, missedBefore: now, catchUp: 'all', catchUpMax: 10 });
    expect(isoAll(plan.fire)).toEqual(Array.from({ length: 10 }, (_, i) => new Date(at('2026-01-07T23:59:51Z') + i * 1000).toISOString()));
    expect(plan.next).toBe(at('2026-01-08T00:00:01Z'));
  });

  it('fires every on-time slot, however many are due (a late timer), whatever catchUp says', () => {
    const perSecond = compileCron('* * * * * *', 'UTC');
    const t = at('2026-01-01T00:00:00Z');
    for (const catchUp of ['none', 'latest', 'all'] as const) {
      const plan = planFires({ job: perSecond, from: t, now: t + 2500, missedBefore: t - LATE_MS, catchUp, catchUpMax: 10 });
      expect(plan.fire).toEqual([t, t + 1000, t + 2000]);
      expect(plan.next).toBe(t + 3000);
    }
  });

  it('a slot exactly at the start (the restart happens at a fire time) is on time and fires once', () => {
    const plan = planFires({ ...base, from: at('2026-01-01T13:00:00Z'), now: at('2026-01-01T13:00:00Z'), missedBefore: at('2026-01-01T13:00:00Z'), catchUp: 'none' });
    expect(isoAll(plan.fire)).toEqual(['2026-01-01T13:00:00.000Z']);
    expect(plan.next).toBe(at('2026-01-01T14:00:00Z'));
  });

  it('latest does not add a missed slot when an on-time slot fires anyway', () => {
    const plan = planFires({ ...base, now: at('2026-01-01T13:00:05Z'), missedBefore: at('2026-01-01T12:30:00Z'), catchUp: 'latest' });
    expect(isoAll(plan.fire)).toEqual(['2026-01-01T13:00:00.000Z']);
    expect(plan.skipped).toBe(2);
  });

  it('plans nothing before next_fire_at', () => {
    expect(planFires({ ...base, now: from - 1, catchUp: 'all' })).toEqual({ fire: [], skipped: 0, next: from });
  });
});
