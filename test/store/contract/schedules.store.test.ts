// Shared store cases (SQLite and PostgreSQL), schedules: upsert keeps next_fire_at unless the timing changes,
// due queries, and firings that are guarded and keyed so one slot never makes two tasks.
import { describe, expect, it } from 'vitest';
import { fireKey, firingTask } from '../../../src/schedules/spec.js';
import type { ScheduleWrite } from '../../../src/store/store.js';
import { openStore, T0 } from './stores.js';

const write = (extra: Partial<ScheduleWrite> = {}): ScheduleWrite => ({
  id: 'nightly', cron: '0 3 * * *', timezone: 'UTC', task: { targetUrl: 'http://127.0.0.1:9/x', payload: { n: 1 } },
  paused: false, catchUp: 'latest', catchUpMax: 10, nextFireAt: T0 + 3 * 3600_000, ...extra,
});

describe('schedule store', () => {
  it('creates, then replaces by id; the next fire time stays unless cron, zone or paused change', async () => {
    const store = await openStore();
    const a = await store.putSchedule(write(), T0);
    expect(a.created).toBe(true);
    expect(a.schedule).toMatchObject({ id: 'nightly', cron: '0 3 * * *', timezone: 'UTC', paused: false, catchUp: 'latest', catchUpMax: 10, lastFireAt: null, nextFireAt: '2026-01-01T03:00:00.000Z' });
    const b = await store.putSchedule(write({ task: { targetUrl: 'http://127.0.0.1:9/y' }, catchUp: 'all', nextFireAt: T0 + 99 }), T0 + 1000);
    expect(b.created).toBe(false);
    expect(b.schedule).toMatchObject({ catchUp: 'all', task: { targetUrl: 'http://127.0.0.1:9/y' }, nextFireAt: '2026-01-01T03:00:00.000Z', createdAt: '2026-01-01T00:00:00.000Z' });
    const c = await store.putSchedule(write({ cron: '0 4 * * *', nextFireAt: T0 + 4 * 3600_000 }), T0 + 2000);
    expect(c.schedule.nextFireAt).toBe('2026-01-01T04:00:00.000Z');
    const paused = await store.putSchedule(write({ cron: '0 4 * * *', paused: true, nextFireAt: null }), T0 + 3000);
    expect(paused.schedule).toMatchObject({ paused: true, nextFireAt: null });
    expect(await store.nextScheduleAt()).toBeNull();
    expect(await store.listSchedules()).toHaveLength(1);
  });

  it('updatedAt moves forward on every write, even within one millisecond (the runner guards on it)', async () => {
    const store = await openStore();
    const a = await store.putSchedule(write(), T0);
    const b = await store.putSchedule(write(), T0);
    expect(Date.parse(b.schedule.updatedAt)).toBeGreaterThan(Date.parse(a.schedule.updatedAt));
  });

  it('lists due schedules earliest first, skipping paused ones and those not due', async () => {
    const store = await openStore();
    await store.putSchedule(write({ id: 'b', nextFireAt: T0 + 20 }), T0);
    await store.putSchedule(write({ id: 'a', nextFireAt: T0 + 10 }), T0);
    await store.putSchedule(write({ id: 'p', paused: true, nextFireAt: T0 }), T0);
    await store.putSchedule(write({ id: 'later', nextFireAt: T0 + 1000 }), T0);
    expect((await store.dueSchedules(T0 + 20, 10)).map((s) => s.id)).toEqual(['a', 'b']);
    expect((await store.dueSchedules(T0 + 20, 1)).map((s) => s.id)).toEqual(['a']);
    expect(await store.nextScheduleAt()).toBe(T0 + 10);
  });

  it('a firing writes its tasks and times together; a stale guard writes nothing', async () => {
    const store = await openStore();
    await store.putSchedule(write({ nextFireAt: T0 }), T0 - 5000);
    const [due] = await store.dueSchedules(T0, 10);
    const expect_ = { nextFireAt: due!.nextFireAt, updatedAt: due!.updatedAt };
    const task = firingTask('nightly', due!.task, T0, T0);
    const r = await store.fireSchedule({ id: 'nightly', tasks: [task], lastFireAt: T0, nextFireAt: T0 + 86_400_000, expect: expect_ });
    expect(r).toHaveLength(1);
    expect(r![0]!.task).toMatchObject({ scheduleId: 'nightly', idempotencyKey: fireKey('nightly', T0), status: 'pending' });
    expect(await store.getSchedule('nightly')).toMatchObject({ lastFireAt: '2026-01-01T00:00:00.000Z', nextFireAt: '2026-01-02T00:00:00.000Z' });
    // The same read again (a second pass racing the first): refused, no task.
    expect(await store.fireSchedule({ id: 'nightly', tasks: [firingTask('nightly', due!.task, T0, T0)], lastFireAt: T0, nextFireAt: 1, expect: expect_ })).toBeUndefined();
    expect((await store.listTasks({ limit: 10 })).tasks).toHaveLength(1);
  });

  it('the same slot fired twice without a guard still makes one task (idempotency key)', async () => {
    const store = await openStore();
    await store.putSchedule(write({ nextFireAt: T0 }), T0);
    const fire = () => store.fireSchedule({ id: 'nightly', tasks: [firingTask('nightly', write().task, T0, T0)], lastFireAt: T0 });
    const [a, b] = await Promise.all([fire(), fire()]);
    expect(a![0]!.created).toBe(true);
    expect(b![0]).toMatchObject({ created: false, task: { id: a![0]!.task.id } });
    expect((await store.listTasks({ limit: 10 })).tasks).toHaveLength(1);
  });

  it('lastFireAt never moves back; a firing of a deleted schedule writes nothing', async () => {
    const store = await openStore();
    await store.putSchedule(write(), T0);
    await store.fireSchedule({ id: 'nightly', tasks: [], lastFireAt: T0 + 5000 });
    await store.fireSchedule({ id: 'nightly', tasks: [], lastFireAt: T0 + 1000 });
    expect((await store.getSchedule('nightly'))!.lastFireAt).toBe(new Date(T0 + 5000).toISOString());
    expect(await store.deleteSchedule('nightly')).toBe(true);
    expect(await store.deleteSchedule('nightly')).toBe(false);
    expect(await store.fireSchedule({ id: 'nightly', tasks: [firingTask('nightly', write().task, null, T0)], lastFireAt: T0 })).toBeUndefined();
    expect((await store.listTasks({ limit: 10 })).tasks).toHaveLength(0);
  });
});
