// Hostile and malformed flow-control input (api.md §12): concurrencyKey on create (raw path and
// Hono path alike), batch and schedule templates; keyConcurrency on queues. Always a 400 naming
// the field, never a 5xx, nothing stored.
import { describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

const TARGET = 'http://127.0.0.1:9/x';
const BAD_KEYS: unknown[] = ['', 'k'.repeat(201), 42, true, null, ['a'], { k: 'a' }, 'a\u0000b', 'line\nbreak'];

async function count(server: TestServer) {
  return (await server.api('/v1/stats')).body.counts.pending as number;
}

describe('concurrencyKey and keyConcurrency input', () => {
  it('a create with a bad concurrencyKey is a 400 naming the field, on the raw path and through Hono, and stores nothing', async () => {
    const server = await startServer();
    for (const key of BAD_KEYS) {
      for (const p of ['/v1/tasks', '/v1/tasks?wait=0']) {
        const r = await server.api(p, { body: { targetUrl: TARGET, concurrencyKey: key } });
        expect(r.status, `${p} ${JSON.stringify(key)}`).toBe(400);
        expect(r.body.error.code).toBe('invalid_request');
        expect(JSON.stringify(r.body.error.details)).toContain('concurrencyKey');
      }
    }
    const ok = await server.api('/v1/tasks', { body: { targetUrl: TARGET, concurrencyKey: 'k'.repeat(200), delay: 3600 } });
    expect(ok.status).toBe(201);
    expect(ok.body.concurrencyKey).toBe('k'.repeat(200));
    const unicode = await server.api('/v1/tasks?wait=0', { body: { targetUrl: TARGET, concurrencyKey: 'tenant-ü-😀 "x" <b>', delay: 3600 } });
    expect(unicode.status).toBe(201);
    expect((await server.api(`/v1/tasks/${unicode.body.id}`)).body.concurrencyKey).toBe('tenant-ü-😀 "x" <b>');
    expect(await count(server)).toBe(2);
  });

  it('a batch with one bad key is refused whole, naming its index', async () => {
    const server = await startServer();
    const r = await server.api('/v1/tasks/batch', { body: { tasks: [{ targetUrl: TARGET, concurrencyKey: 'a' }, { targetUrl: TARGET, concurrencyKey: '' }] } });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body.error.details)).toMatch(/tasks.*1.*concurrencyKey/);
    expect(await count(server)).toBe(0);
  });

  it("a schedule's task template takes a concurrencyKey, and refuses a bad one", async () => {
    const server = await startServer();
    const bad = await server.api('/v1/schedules', { body: { cron: '0 3 * * *', task: { targetUrl: TARGET, concurrencyKey: 'x'.repeat(300) } } });
    expect(bad.status).toBe(400);
    const good = await server.api('/v1/schedules', { body: { id: 'nightly', cron: '0 3 * * *', task: { targetUrl: TARGET, concurrencyKey: 'tenant-7' } } });
    expect(good.status, JSON.stringify(good.body)).toBe(201);
    expect(good.body.task.concurrencyKey).toBe('tenant-7');
    const fired = await server.api('/v1/schedules/nightly/trigger', { method: 'POST', body: {} });
    expect(fired.status, JSON.stringify(fired.body)).toBeLessThan(300);
    const list = (await server.api('/v1/tasks?schedule=nightly')).body.tasks;
    expect(list[0].concurrencyKey).toBe('tenant-7');
  });

  it('keyConcurrency 0, negative, fractional, huge or not a number is a 400; null and 1..100000 are taken', async () => {
    const server = await startServer();
    for (const v of [0, -1, 1.5, 100_001, 1e308, '2', true, [], {}, Number.MAX_SAFE_INTEGER + 2]) {
      const r = await server.api('/v1/queues/q', { method: 'PUT', body: { keyConcurrency: v } });
      expect(r.status, JSON.stringify(v)).toBe(400);
      expect(JSON.stringify(r.body.error.details)).toContain('keyConcurrency');
    }
    const huge = await server.api('/v1/queues/q', { method: 'PUT', raw: '{"keyConcurrency": 1e999}', headers: { 'content-type': 'application/json' } });
    expect(huge.status).toBe(400);
    expect((await server.api('/v1/queues')).body.queues.some((q: { name: string }) => q.name === 'q')).toBe(false);
    for (const v of [1, 100_000, null]) {
      const r = await server.api('/v1/queues/q', { method: 'PUT', body: { keyConcurrency: v } });
      expect(r.status).toBe(200);
      expect(r.body.keyConcurrency).toBe(v);
    }
  });
});
