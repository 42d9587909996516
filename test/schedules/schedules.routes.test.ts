// The schedule routes over HTTP on a real server: upsert (201 then 200), list, get, update,
// delete, trigger, and 400s that give the reason for bad cron expressions, zones and task bodies.
import { describe, expect, it } from 'vitest';
import type { Schedule } from '../../src/shared/types.js';
import { startServer } from '../helpers/server.js';

const task = { targetUrl: 'http://127.0.0.1:9/report', payload: { kind: 'nightly' }, queue: 'hold' };
// A paused queue keeps the created tasks pending: these tests see the API alone.
async function server() {
  const s = await startServer();
  await s.api('/v1/queues/hold', { method: 'PUT', body: { paused: true } });
  return s;
}

describe('schedule routes', () => {
  it('creates a schedule with defaults (201), replaces it by id (200), lists and gets it', async () => {
    const s = await server();
    const a = await s.api('/v1/schedules', { body: { id: 'nightly', cron: '0 3 * * *', timezone: 'europe/berlin', task } });
    expect(a.status).toBe(201);
    const created = a.body as Schedule;
    expect(created).toMatchObject({ id: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Berlin', task, paused: false, catchUp: 'latest', catchUpMax: 10, lastFireAt: null });
    // 03:00 in Berlin is 01:00 or 02:00 UTC, always after now.
    expect(new Date(created.nextFireAt!).getUTCHours()).toBeGreaterThanOrEqual(1);
    expect(Date.parse(created.nextFireAt!)).toBeGreaterThan(Date.now());

    const b = await s.api('/v1/schedules', { body: { id: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Berlin', task, catchUp: 'all', catchUpMax: 3 } });
    expect(b.status).toBe(200);
    expect(b.body).toMatchObject({ catchUp: 'all', catchUpMax: 3, nextFireAt: created.nextFireAt, createdAt: created.createdAt });

    const gen = await s.api('/v1/schedules', { body: { cron: '*/5 * * * *', task } });
    expect(gen.status).toBe(201);
    expect(gen.body.id).toMatch(/^sch_[0-9a-z]{24}$/);
    expect(gen.body.timezone).toBe('UTC');

    const list = await s.api('/v1/schedules');
    expect(list.status).toBe(200);
    expect(list.body.schedules.map((x: Schedule) => x.id).sort()).toEqual([gen.body.id, 'nightly'].sort());
    expect((await s.api('/v1/schedules/nightly')).body).toEqual(b.body);
    expect(await s.api('/v1/schedules/nope')).toMatchObject({ status: 404, body: { error: { code: 'not_found', message: 'schedule not found' } } });
  });

  it('PUT pauses (nextFireAt null), resumes, and changes the expression; DELETE answers 204 then 404', async () => {
    const s = await server();
    await s.api('/v1/schedules', { body: { id: 'h', cron: '0 * * * *', task } });
    const paused = await s.api('/v1/schedules/h', { method: 'PUT', body: { paused: true } });
    expect(paused).toMatchObject({ status: 200, body: { paused: true, nextFireAt: null, cron: '0 * * * *' } });
    const resumed = await s.api('/v1/schedules/h', { method: 'PUT', body: { paused: false, cron: '30 * * * * *' } });
    expect(resumed.body).toMatchObject({ paused: false, cron: '30 * * * * *' });
    expect(new Date(resumed.body.nextFireAt).getUTCSeconds()).toBe(30);
    expect((await s.api('/v1/schedules/none', { method: 'PUT', body: { paused: true } })).status).toBe(404);
    expect((await s.api('/v1/schedules/h', { method: 'DELETE' })).status).toBe(204);
    expect((await s.api('/v1/schedules/h', { method: 'DELETE' })).status).toBe(404);
  });

  it('trigger creates one ordinary task now, with the scheduleId, and records lastFireAt', async () => {
    const s = await server();
    await s.api('/v1/schedules', { body: { id: 'once', cron: '0 0 1 1 *', task: { ...task, headers: { authorization: 'Bearer secret-token-1234567890' } } } });
    const r = await s.api('/v1/schedules/once/trigger', { method: 'POST' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'pending', scheduleId: 'once', queue: 'hold', payload: { kind: 'nightly' }, idempotencyKey: null });
    expect(r.body.headers.authorization).not.toContain('secret-token');
    expect((await s.api(`/v1/tasks/${r.body.id}`)).body.scheduleId).toBe('once');
    const sch = (await s.api('/v1/schedules/once')).body as Schedule;
    expect(sch.lastFireAt).toBe(r.body.createdAt);
    expect(sch.task.headers!.authorization).not.toContain('secret-token');
    expect((await s.api('/v1/schedules/nope/trigger', { method: 'POST' })).status).toBe(404);
  });

  it.each([
    [{ cron: '61 * * * *', task }, 'cron', /invalid cron expression "61 \* \* \* \*".*minute/],
    [{ cron: 'every day', task }, 'cron', /invalid cron expression/],
    [{ cron: '0 0 30 2 *', task }, 'cron', /never fires/],
    [{ cron: '0 3 * * *', timezone: 'Mars/Olympus', task }, 'timezone', /unknown time zone "Mars\/Olympus"/],
    [{ cron: '0 3 * * *', task: { ...task, runAt: '2030-01-01T00:00:00Z' } }, 'task.runAt', /use delay/],
    [{ cron: '0 3 * * *', task: { ...task, idempotencyKey: 'k' } }, 'task.idempotencyKey', /own key/],
    [{ cron: '0 3 * * *', task: { ...task, targetUrl: 'ftp://x' } }, 'task.targetUrl', /http/],
    [{ cron: '0 3 * * *' }, 'task', /./],
    [{ id: 'has space', cron: '0 3 * * *', task }, 'id', /A-Za-z0-9/],
    [{ cron: '0 3 * * *', task, catchUp: 'some' }, 'catchUp', /./],
    [{ cron: '0 3 * * *', task, catchUpMax: 0 }, 'catchUpMax', /./],
    [{ cron: '0 3 * * *', task, extra: 1 }, '', /extra/],
  ])('refuses %j with 400 naming %s', async (body, field, reason) => {
    const s = await server();
    const r = await s.api('/v1/schedules', { body });
    expect(r.status, JSON.stringify(r.body)).toBe(400);
    expect(r.body.error.code).toBe('invalid_request');
    expect(r.body.error.message).toMatch(reason);
    if (field) expect(r.body.error.message).toContain(`${field}:`);
    expect((await s.api('/v1/schedules')).body.schedules).toEqual([]);
  });

  it('is in the OpenAPI document', async () => {
    const s = await server();
    const doc = (await s.api('/openapi.json')).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/schedules', '/v1/schedules/{id}', '/v1/schedules/{id}/trigger']));
    expect(Object.keys(doc.paths['/v1/schedules/{id}'])).toEqual(expect.arrayContaining(['get', 'put', 'delete']));
  });
});
