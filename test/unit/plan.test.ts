// planTask (api.md §11) as a table: status, retries, backoff with its jitter band, Retry-After
// history, async timeouts and a paused queue in; the remaining attempts' start bands and the
// latest give-up time out. Times are seconds after T0.
import { describe, expect, it } from 'vitest';
import { delayBand, planTask, type PlanInput } from '../../src/dispatch/plan.js';

const T0 = Date.parse('2026-12-01T12:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const base: PlanInput = {
  status: 'pending', attempts: 0, attemptsBase: 0, retries: 2, timeoutMs: 30_000, backoff: { initial: 10, factor: 2, max: 3600 },
  async: null, runAt: T0, startedAt: T0, awaiting: null, lastRetryAfterMs: null, queuePaused: false, waiting: null,
};

describe('delayBand', () => {
  it.each([
    // retry, backoff, Retry-After, band in ms
    [1, { initial: 10, factor: 2, max: 3600 }, null, [7_500, 12_500]],
    [3, { initial: 10, factor: 2, max: 3600 }, null, [30_000, 50_000]],
    [9, { initial: 10, factor: 2, max: 3600 }, null, [1_920_000, 3_200_000]],
    [1, { initial: 3000, factor: 2, max: 3600 }, null, [2_250_000, 3_600_000]], // the top of the band is capped by max
    [20, { initial: 10, factor: 2, max: 3600 }, null, [2_700_000, 3_600_000]], // at max, still jittered down by a quarter
    [1, { initial: 10, factor: 2, max: 3600 }, 120_000, [7_500, 120_000]], // Retry-After widens the band
    [1, { initial: 10, factor: 2, max: 3600 }, 0, [0, 12_500]],
    [2, { initial: 0, factor: 2, max: 0 }, null, [0, 0]],
  ] as const)('retry %i with %o and Retry-After %s → %o', (r, b, ra, band) => {
    expect(delayBand(r, b, ra)).toEqual(band);
  });
});

describe('planTask', () => {
  const cases: [string, Partial<PlanInput>, number, { attempts: [number, number, number | null][]; givesUpAt: number | null }][] = [
    [
      'a fresh task due now: attempt 1 now, then retries 1 and 2 in their jitter bands after up to 30 s each',
      {}, 0,
      { attempts: [[1, 0, 0], [2, 7.5, 42.5], [3, 7.5 + 15, 42.5 + 30 + 25]], givesUpAt: 42.5 + 30 + 25 + 30 },
    ],
    [
      'a delayed task starts at its runAt',
      { runAt: T0 + 60_000, retries: 0 }, 0,
      { attempts: [[1, 60, 60]], givesUpAt: 90 },
    ],
    [
      'a task in backoff after attempt 1 (retry 1 of 2 at its runAt)',
      { attempts: 1, runAt: T0 + 20_000 }, 5,
      { attempts: [[2, 20, 20], [3, 35, 75]], givesUpAt: 105 },
    ],
    [
      'after a manual retry the retries count from the new base',
      { attempts: 4, attemptsBase: 4, retries: 1 }, 0,
      { attempts: [[5, 0, 0], [6, 7.5, 42.5]], givesUpAt: 72.5 },
    ],
    [
      'a running task: the current attempt may take its timeout before the next retry',
      { status: 'running', attempts: 1, startedAt: T0 - 10_000 }, 0,
      { attempts: [[2, 7.5, 20 + 12.5], [3, 7.5 + 15, 32.5 + 30 + 25]], givesUpAt: 87.5 + 30 },
    ],
    [
      'the last attempt running: nothing remains; it gives up when its timeout passes',
      { status: 'running', attempts: 3, startedAt: T0 }, 1,
      { attempts: [], givesUpAt: 30 },
    ],
    [
      'an awaiting async attempt ends at the latest at since + async.timeout (heartbeats cannot move it further)',
      { status: 'running', attempts: 1, retries: 1, async: { timeoutMs: 600_000, heartbeatMs: 60_000 }, awaiting: { since: T0, deadline: T0 + 60_000 } }, 10,
      { attempts: [[2, 10 + 7.5, 600 + 12.5]], givesUpAt: 612.5 + 30 + 600 },
    ],
    [
      'a Retry-After seen in this run widens every later band',
      { attempts: 1, runAt: T0 + 120_000, lastRetryAfterMs: 120_000 }, 0,
      { attempts: [[2, 120, 120], [3, 120 + 15, 120 + 30 + 120]], givesUpAt: 270 + 30 },
    ],
    [
      'waiting until a rate token: the next attempt starts no sooner',
      { waiting: { reason: 'queue_rate', until: at(3), message: '' }, retries: 0 }, 0,
      { attempts: [[1, 3, 3]], givesUpAt: 33 },
    ],
    [
      'a paused queue: earliest times only, no latest, no give-up time',
      { queuePaused: true, waiting: { reason: 'queue_paused', message: '' }, retries: 1 }, 0,
      { attempts: [[1, 0, null], [2, 7.5, null]], givesUpAt: null },
    ],
  ];
  it.each(cases)('%s', (_title, input, nowS, want) => {
    const plan = planTask({ ...base, ...input }, T0 + nowS * 1000);
    expect(plan.attempts).toEqual(want.attempts.map(([n, e, l]) => ({ n, earliest: at(e), latest: l === null ? null : at(l) })));
    expect(plan.givesUpAt).toBe(want.givesUpAt === null ? null : at(want.givesUpAt));
  });

  it.each(['completed', 'failed', 'cancelled'] as const)('a %s task has an empty plan', (status) => {
    expect(planTask({ ...base, status }, T0)).toEqual({ waiting: null, attempts: [], givesUpAt: null });
  });
});
