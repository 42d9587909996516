// Schedules end to end on a real server and target: per-second firing reaches the target once
// per slot, an upsert changes the expression without a duplicate, and restarts (with a clock
// passed to createServer) follow catchUp and never make two tasks for one slot.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Schedule, Task } from '../../src/shared/types.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput, waitForTerminal } from '../helpers/tasks.js';
import { tempDir } from '../helpers/temp.js';

const at = (iso: string) => Date.parse(iso);
/** The fire time (ms) a scheduled task was made for, from its idempotency key `sch:<id>:<ms>`. */
const fireTime = (t: Task) => Number(t.idempotencyKey!.split(':').pop());

async function tasksOf(server: TestServer, scheduleId: string): Promise<Task[]> {
  const r = await server.api('/v1/tasks?limit=500');
  return (r.body.tasks as Task[]).filter((t) => t.scheduleId === scheduleId).sort((a, b) => fireTime(a) - fireTime(b));
}

/** Re-reads the schedules on every task event (25 ms backstop) until `check` holds; the test's timeout bounds it. */
async function waitForSchedules(server: TestServer, check: (s: Record<string, Schedule>) => boolean): Promise<Record<string, Schedule>> {
  let wake = () => {};
  const off = server.events.on(() => wake());
  try {
    for (;;) {
      const list = (await server.api('/v1/schedules')).body.schedules as Schedule[];
      const byId = Object.fromEntries(list.map((s) => [s.id, s]));
      if (check(byId)) return byId;
      await new Promise<void>((r) => ((wake = r), setTimeout(r, 25)));
    }
  } finally {
    off();
  }
}

describe('schedules end to end', () => {
  it('a per-second schedule creates one task per second and each reaches the target', async () => {
    const server = await startServer();
    const target = await startTarget();
    const c = await server.api('/v1/schedules', { body: { id: 'tick', cron: '* * * * * *', task: taskInput(target.url + '/tick') } });
    expect(c.status).toBe(201);
    await target.waitForRequests(3);
    await server.api('/v1/schedules/tick', { method: 'PUT', body: { paused: true } });

    const tasks = await tasksOf(server, 'tick');
    expect(tasks.length).toBeGreaterThanOrEqual(3);
    const times = tasks.map(fireTime);
    // One task per slot: whole seconds, one apart, none twice.
    for (let i = 0; i < times.length; i++) {
      expect(times[i]! % 1000).toBe(0);
      if (i > 0) expect(times[i]! - times[i - 1]!).toBe(1000);
    }
    for (const t of tasks) expect((await waitForTerminal(server, t.id)).status).toBe('completed');
    const delivered = target.requests.map((r) => r.headers['aq-task-id']);
    expect(delivered.sort()).toEqual(tasks.map((t) => t.id).sort());
    const s = (await server.api('/v1/schedules/tick')).body as Schedule;
    expect(Date.parse(s.lastFireAt!)).toBe(times[times.length - 1]);
  });

  it('an upsert changes the expression without firing any slot twice', async () => {
    const server = await startServer();
    const target = await startTarget();
    const body = { id: 'up', cron: '* * * * * *', task: taskInput(target.url + '/up') };
    expect((await server.api('/v1/schedules', { body })).status).toBe(201);
    await target.waitForRequests(2);
    const changed = await server.api('/v1/schedules', { body: { ...body, cron: '*/2 * * * * *' } });
    expect(changed.status).toBe(200);
    const changedAt = Date.parse(changed.body.updatedAt);
    expect(Date.parse(changed.body.nextFireAt) % 2000).toBe(0);
    const before = (await tasksOf(server, 'up')).length;
    await target.waitForRequests(before + 2);
    await server.api('/v1/schedules/up', { method: 'PUT', body: { paused: true } });

    const times = (await tasksOf(server, 'up')).map(fireTime);
    expect(new Set(times).size).toBe(times.length);
    const after = times.filter((t) => t > changedAt);
    expect(after.length).toBeGreaterThanOrEqual(2);
    for (const t of after) expect(t % 2000).toBe(0);
  });

  it('after a stop across missed slots, a restart follows each schedule’s catchUp', async () => {
    const db = path.join(tempDir(), 'aq.db');
    let now = at('2026-01-01T10:20:00Z');
    const clock = { now: () => now };
    const target = await startTarget();
    const a = await startServer({ db, clock });
    for (const catchUp of ['none', 'latest', 'all']) {
      const r = await a.api('/v1/schedules', { body: { id: catchUp, cron: '0 * * * *', catchUp, catchUpMax: 2, task: taskInput(target.url + '/' + catchUp) } });
      expect(r.body.nextFireAt).toBe('2026-01-01T11:00:00.000Z');
    }
    await a.close();

    now = at('2026-01-01T13:30:00Z'); // 11:00, 12:00 and 13:00 were missed
    const b = await startServer({ db, clock });
    const s = await waitForSchedules(b, (s) => ['none', 'latest', 'all'].every((id) => s[id]!.nextFireAt === '2026-01-01T14:00:00.000Z'));
    const iso = async (id: string) => (await tasksOf(b, id)).map((t) => new Date(fireTime(t)).toISOString());
    expect(await iso('none')).toEqual([]);
    expect(await iso('latest')).toEqual(['2026-01-01T13:00:00.000Z']);
    expect(await iso('all')).toEqual(['2026-01-01T12:00:00.000Z', '2026-01-01T13:00:00.000Z']);
    expect([s.none!.lastFireAt, s.latest!.lastFireAt, s.all!.lastFireAt]).toEqual([null, '2026-01-01T13:00:00.000Z', '2026-01-01T13:00:00.000Z']);
    // They are ordinary tasks: dispatched to the target.
    const paths = (await target.waitForRequests(3)).map((r) => r.path).sort();
    expect(paths).toEqual(['/all', '/all', '/latest']);
  });

  it('a restart right at a fire time makes one task, even when the schedule row lost its update', async () => {
    const db = path.join(tempDir(), 'aq.db');
    let now = at('2026-01-01T10:20:00Z');
    const clock = { now: () => now };
    const a = await startServer({ db, clock });
    await a.api('/v1/queues/hold', { method: 'PUT', body: { paused: true } });
    await a.api('/v1/schedules', { body: { id: 'hourly', cron: '0 * * * *', catchUp: 'all', task: taskInput('http://127.0.0.1:9/x', { queue: 'hold' }) } });
    await a.close();

    now = at('2026-01-01T11:00:00Z'); // exactly the fire time
    const b = await startServer({ db, clock });
    await waitForSchedules(b, (s) => s.hourly!.nextFireAt === '2026-01-01T12:00:00.000Z');
    expect((await tasksOf(b, 'hourly')).map(fireTime)).toEqual([now]);
    await b.close();

    // As if the firing's schedule update were lost (a crash, a restored file): next_fire_at back at 11:00.
    const store = new SqliteStore({ file: db });
    store.db.prepare('UPDATE schedules SET next_fire_at = ? WHERE id = ?').run(now, 'hourly');
    await store.close();

    const c = await startServer({ db, clock });
    await waitForSchedules(c, (s) => s.hourly!.nextFireAt === '2026-01-01T12:00:00.000Z');
    const tasks = await tasksOf(c, 'hourly');
    expect(tasks.map(fireTime)).toEqual([now]);
    expect(tasks[0]!.idempotencyKey).toBe(`sch:hourly:${now}`);
  });
});
