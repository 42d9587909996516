// The virtual clock of `serve --dev --clock virtual` (api.md §15): retries, webhooks, schedules
// and deadlines follow it. The clock starts years away from the wall clock, so any code path
// that read wall-clock time would see nothing due (or everything due at once) and fail here.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { startServer } from '../helpers/server.js';

const START = Date.parse('2031-03-02T00:00:00.000Z');
const HOUR = 3_600_000;

describe('VirtualClock', () => {
  it('fires timers in time order as it passes them, and never moves back', async () => {
    const clock = new VirtualClock(1000);
    const fired: [string, number][] = [];
    clock.setTimer(() => fired.push(['b', clock.now()]), 200);
    const cancel = clock.setTimer(() => fired.push(['x', clock.now()]), 150);
    clock.setTimer(() => {
      fired.push(['a', clock.now()]);
      clock.setTimer(() => fired.push(['a2', clock.now()]), 50);
    }, 100);
    cancel();
    expect(await clock.advance(120)).toBe(1120);
    expect(fired).toEqual([['a', 1100]]);
    expect(await clock.advance(1000)).toBe(2120);
    expect(fired).toEqual([['a', 1100], ['a2', 1150], ['b', 1200]]);
    await expect(clock.advance(-1)).rejects.toThrow(/back/);
    await expect(clock.advanceTo(5)).rejects.toThrow(/back/);
    expect(clock.now()).toBe(2120);
  });
});

describe('serve --dev --clock virtual', () => {
  it('runs a week of retries in one advance: each attempt after its backoff, then the failure webhook', async () => {
    const server = await startServer({ dev: true, clock: new VirtualClock(START) });
    expect(server.clock.virtual).toBe(true);
    expect((await server.api('/v1/clock')).body).toEqual({ now: new Date(START).toISOString(), virtual: true });
    const created = await server.api('/v1/tasks', {
      body: { targetUrl: `${server.url}/_sink/flaky?status=503`, webhookUrl: `${server.url}/_sink/hook`, retries: 5, backoff: { initial: 3600, factor: 2, max: 86_400 }, payload: { n: 1 } },
    });
    expect(created.status).toBe(201);
    const week = await server.api('/v1/clock/advance', { body: { seconds: 7 * 86_400 } });
    expect(week.body).toEqual({ now: new Date(START + 7 * 24 * HOUR).toISOString(), virtual: true });
    const task = (await server.api(`/v1/tasks/${created.body.id}`)).body;
    expect(task.status).toBe('failed');
    expect(task.attempts).toBe(6);
    expect(task.webhook.status).toBe('delivered');
    const starts = (await server.api(`/v1/tasks/${created.body.id}/attempts`)).body.attempts.map((a: { startedAt: string }) => Date.parse(a.startedAt));
    expect(starts[0]).toBe(START);
    // Retry n waits initial·factor^(n-1) hours times a jitter in [0.75, 1.25] (api.md §3).
    for (let n = 1; n < starts.length; n++) {
      const gap = starts[n] - starts[n - 1];
      const base = Math.min(86_400_000, HOUR * 2 ** (n - 1));
      expect(gap).toBeGreaterThanOrEqual(Math.floor(base * 0.75));
      expect(gap).toBeLessThanOrEqual(Math.min(86_400_000, Math.ceil(base * 1.25)));
    }
    const hook = (await server.api('/v1/sink/hook')).body.requests;
    expect(hook).toHaveLength(1);
    expect(hook[0].json).toMatchObject({ id: created.body.id, status: 'failed', attempts: 6 });
    expect(hook[0].signatureVerified).toBe(true);
    expect(Date.parse(hook[0].receivedAt)).toBeGreaterThanOrEqual(starts[5]);
    expect((await server.api('/v1/sink/flaky')).body.requests).toHaveLength(6);
  });

  it('fires an hourly schedule 24 times in a virtual day, and a delayed task only when its time comes', async () => {
    const server = await startServer({ dev: true, clock: new VirtualClock(START) });
    const sched = await server.api('/v1/schedules', { body: { id: 'hourly', cron: '0 * * * *', task: { targetUrl: `${server.url}/_sink/hourly` } } });
    expect(sched.status).toBe(201);
    const later = await server.api('/v1/tasks', { body: { targetUrl: `${server.url}/_sink/later`, delay: 90 * 60 } });
    await server.api('/v1/clock/advance', { body: { seconds: 3600 } });
    expect((await server.api('/v1/sink/later')).body.requests).toHaveLength(0);
    expect((await server.api(`/v1/tasks/${later.body.id}`)).body.status).toBe('pending');
    await server.api('/v1/clock/advance', { body: { to: new Date(START + 24 * HOUR).toISOString() } });
    expect((await server.api(`/v1/tasks/${later.body.id}`)).body.status).toBe('completed');
    const hourly = (await server.api('/v1/sink/hourly')).body.requests;
    expect(hourly).toHaveLength(24);
    const times = hourly.map((r: { receivedAt: string }) => Date.parse(r.receivedAt));
    expect(times).toEqual(Array.from({ length: 24 }, (_, i) => START + (i + 1) * HOUR));
  });

  it('times an attempt out on virtual time, at its deadline, when the sink is scripted to be slow', async () => {
    const server = await startServer({ dev: true, clock: new VirtualClock(START) });
    const created = await server.api('/v1/tasks', { body: { targetUrl: `${server.url}/_sink/slow?delay=120`, timeout: 30, retries: 0 } });
    await server.api('/v1/clock/advance', { body: { seconds: 60 } });
    const task = (await server.api(`/v1/tasks/${created.body.id}`)).body;
    expect(task.status).toBe('failed');
    expect(task.error.type).toBe('timeout');
    const [attempt] = (await server.api(`/v1/tasks/${created.body.id}/attempts`)).body.attempts;
    expect(attempt.durationMs).toBe(30_000);
  });

  it('refuses a bad advance with the documented 400, and a system clock with 409', async () => {
    const server = await startServer({ dev: true, clock: new VirtualClock(START) });
    for (const body of [{}, { seconds: -1 }, { seconds: 'x' }, { to: 'yesterday' }, { seconds: 1, to: new Date(START).toISOString() }, { to: new Date(START - 1000).toISOString() }]) {
      const res = await server.api('/v1/clock/advance', { body });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    const system = await startServer({ dev: true });
    expect((await system.api('/v1/clock')).body.virtual).toBe(false);
    expect((await system.api('/v1/clock/advance', { body: { seconds: 1 } })).status).toBe(409);
  });
});
