import { describe, expect, it } from 'vitest';
import { countCalls } from '../helpers/clock.js';
import { startServer } from '../helpers/server.js';

const target = 'http://127.0.0.1:9/never';
// A paused queue keeps tasks pending, so these tests see the API alone.
async function pausedServer(opts = {}) {
  const s = await startServer(opts);
  await s.api('/v1/queues/hold', { method: 'PUT', body: { paused: true } });
  return s;
}
const input = (extra: Record<string, unknown> = {}) => ({ targetUrl: target, queue: 'hold', ...extra });

describe('task routes', () => {
  it('creates a task (201) with defaults, reads it, lists it and its attempts', async () => {
    const s = await pausedServer();
    const c = await s.api('/v1/tasks', { body: input({ payload: { a: [1, 2] }, labels: ['x'] }) });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({ status: 'pending', queue: 'hold', payload: { a: [1, 2] }, retries: 3, labels: ['x'] });
    const g = await s.api(`/v1/tasks/${c.body.id}`);
    expect(g).toMatchObject({ status: 200, body: { id: c.body.id } });
    expect((await s.api(`/v1/tasks/${c.body.id}/attempts`)).body).toEqual({ attempts: [] });
    const l = await s.api('/v1/tasks?queue=hold&label=x&status=pending');
    expect(l.body.tasks.map((t: { id: string }) => t.id)).toEqual([c.body.id]);
    expect(l.body.nextCursor).toBeNull();
  });

  it('answers 200 with the existing task for an idempotency key seen before, from body or header, even under concurrency', async () => {
    const s = await pausedServer();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 ? s.api('/v1/tasks', { body: input({ idempotencyKey: 'k1' }) }) : s.api('/v1/tasks', { body: input(), headers: { 'Idempotency-Key': 'k1' } }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 200)).toHaveLength(19);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect((await s.api('/v1/tasks?queue=hold')).body.tasks).toHaveLength(1);
  });

  it('creates a batch all or nothing, naming the failing index', async () => {
    const s = await pausedServer();
    const ok = await s.api('/v1/tasks/batch', { body: { tasks: [input({ payload: 1 }), input({ payload: 2 })] } });
    expect(ok.status).toBe(201);
    expect(ok.body.tasks.map((t: { payload: number }) => t.payload)).toEqual([1, 2]);
    const bad = await s.api('/v1/tasks/batch', { body: { tasks: [input(), input({ retries: 500 }), input()] } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    expect(bad.body.error.details[0].path).toEqual(['tasks', 1, 'retries']);
    expect((await s.api('/v1/tasks?queue=hold')).body.tasks).toHaveLength(2);
    const tooMany = await s.api('/v1/tasks/batch', { body: { tasks: Array.from({ length: 1001 }, () => input()) } });
    expect(tooMany.status).toBe(400);
  });

  it('cancels, retries and deletes one task, with 404 and 409 where the contract says', async () => {
    const s = await pausedServer();
    const t = (await s.api('/v1/tasks', { body: input() })).body;
    expect((await s.api(`/v1/tasks/${t.id}/retry`, { method: 'POST' })).status).toBe(409);
    const c = await s.api(`/v1/tasks/${t.id}/cancel`, { method: 'POST' });
    expect(c).toMatchObject({ status: 200, body: { status: 'cancelled', error: { type: 'cancelled' } } });
    const again = await s.api(`/v1/tasks/${t.id}/cancel`, { method: 'POST' });
    expect(again).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    const r = await s.api(`/v1/tasks/${t.id}/retry`, { method: 'POST' });
    expect(r).toMatchObject({ status: 200, body: { status: 'pending', error: null } });
    expect((await s.api(`/v1/tasks/${t.id}`, { method: 'DELETE' })).status).toBe(204);
    for (const [method, path] of [['GET', ''], ['GET', '/attempts'], ['POST', '/cancel'], ['POST', '/retry'], ['DELETE', '']]) {
      const res = await s.api(`/v1/tasks/${t.id}${path}`, { method });
      expect(res, `${method} ${path}`).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } });
    }
  });

  it('bulk cancel and retry by filter, refusing an empty filter', async () => {
    const s = await pausedServer();
    await s.api('/v1/tasks/batch', { body: { tasks: [input({ labels: ['l'] }), input({ labels: ['l'] }), input()] } });
    expect((await s.api('/v1/tasks/cancel', { body: { label: 'l' } })).body).toEqual({ count: 2 });
    expect((await s.api('/v1/tasks/retry', { body: { queue: 'hold', status: 'cancelled' } })).body).toEqual({ count: 2 });
    const all = (await s.api('/v1/tasks?queue=hold')).body.tasks.map((t: { id: string }) => t.id);
    expect((await s.api('/v1/tasks/cancel', { body: { ids: all } })).body).toEqual({ count: 3 });
    expect((await s.api('/v1/tasks/cancel', { body: { createdBefore: '2000-01-01T00:00:00Z' } })).body).toEqual({ count: 0 });
    const empty = await s.api('/v1/tasks/retry', { body: {} });
    expect(empty).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
  });

  it('pages through the list with cursors and refuses a tampered one', async () => {
    const s = await pausedServer();
    await s.api('/v1/tasks/batch', { body: { tasks: Array.from({ length: 120 }, (_, i) => input({ payload: i })) } });
    const seen: number[] = [];
    let cursor = '';
    for (let i = 0; i < 10; i++) {
      const page = (await s.api(`/v1/tasks?limit=50${cursor ? `&cursor=${cursor}` : ''}`)).body;
      seen.push(...page.tasks.map((t: { payload: number }) => t.payload));
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(Array.from({ length: 120 }, (_, i) => 119 - i));
    for (const bad of ['djE6YWJj', 'zzz', 'a'.repeat(65)]) {
      expect((await s.api(`/v1/tasks?cursor=${bad}`)).body.error.code).toBe('invalid_request');
    }
    expect((await s.api('/v1/tasks?limit=501')).status).toBe(400);
    expect((await s.api('/v1/tasks?status=weird')).status).toBe(400);
  });

  it('queues: PUT creates and changes limits; GET lists them with counts; stats counts by state', async () => {
    const s = await pausedServer();
    await s.api('/v1/tasks', { body: input() });
    const q = await s.api('/v1/queues/emails', { method: 'PUT', body: { concurrency: 5, ratePerSecond: 2.5 } });
    expect(q.body).toMatchObject({ name: 'emails', concurrency: 5, ratePerSecond: 2.5, paused: false });
    expect((await s.api('/v1/queues/emails', { method: 'PUT', body: { concurrency: null } })).body.concurrency).toBeNull();
    expect((await s.api('/v1/queues/emails', { method: 'PUT', body: { concurrency: 0 } })).status).toBe(400);
    expect((await s.api('/v1/queues/bad name', { method: 'PUT', body: {} })).status).toBe(400);
    const list = (await s.api('/v1/queues')).body.queues;
    expect(list.find((x: { name: string }) => x.name === 'hold')).toMatchObject({ paused: true, counts: { pending: 1 } });
    const stats = (await s.api('/v1/stats')).body;
    expect(stats.counts.pending).toBe(1);
    expect(stats.queues.hold.pending).toBe(1);
    expect(stats.perMinute).toHaveLength(60);
  });

  it('GET ?wait= holds until the task ends (here: a cancel) and create ?wait= times out with the task as it is', async () => {
    const s = await pausedServer();
    const t = (await s.api('/v1/tasks', { body: input() })).body;
    const subscribed = countCalls(s.events, 'onTask').next(1, (id) => id === t.id);
    // The create's wait runs out (its queue is paused) while the other waits for the cancel.
    const held = s.api('/v1/tasks?wait=1', { body: input() });
    const waiting = s.api(`/v1/tasks/${t.id}?wait=30`);
    await subscribed; // the GET's wait listens before the cancel is sent
    await s.api(`/v1/tasks/${t.id}/cancel`, { method: 'POST' });
    expect((await waiting).body.status).toBe('cancelled');
    expect(await held).toMatchObject({ status: 201, body: { status: 'pending' } });
    expect((await s.api(`/v1/tasks/${t.id}?wait=61`)).status).toBe(400);
  });

  it('answers /healthz the same before the app is loaded (first use) and after', async () => {
    const s = await startServer({ token: 'secret-token' });
    const health = async () => {
      const r = await fetch(s.url + '/healthz', { headers: { 'x-request-id': 'probe-1' } });
      return { status: r.status, type: r.headers.get('content-type'), id: r.headers.get('x-request-id'), body: await r.json() };
    };
    const before = await health();
    expect(before).toEqual({ status: 200, type: 'application/json', id: 'probe-1', body: { ok: true } });
    expect((await s.api('/v1/stats')).status).toBe(200);
    expect(await health()).toEqual(before);
    const fresh = (await fetch(s.url + '/healthz')).headers.get('x-request-id');
    expect(fresh).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('serves /healthz without auth and /openapi.json as OpenAPI 3.1', async () => {
    const s = await startServer({ token: 'secret-token' });
    const raw = await fetch(s.url + '/healthz');
    expect(raw.status).toBe(200);
    expect(await raw.json()).toEqual({ ok: true });
    const doc = await (await fetch(s.url + '/openapi.json')).json();
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/tasks', '/v1/tasks/{id}', '/v1/tasks/batch', '/v1/queues/{name}', '/v1/stats']));
  });
});
