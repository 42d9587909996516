// Batch and chain input (api.md §13): what a batch answer holds, and every refusal a documented
// 400 or 404 with nothing half-created.
import { describe, expect, it } from 'vitest';
import { MAX_CHAIN_DEPTH, MAX_IMPLIED_TASKS } from '../../src/shared/types.js';
import { startServer, type TestServer } from '../helpers/server.js';

const target = 'http://127.0.0.1:9/never';
// A paused queue keeps tasks pending, so these tests see the API alone.
async function pausedServer(opts = {}) {
  const s = await startServer(opts);
  await s.api('/v1/queues/hold', { method: 'PUT', body: { paused: true } });
  return s;
}
const input = (extra: Record<string, unknown> = {}) => ({ targetUrl: target, queue: 'hold', ...extra });
/** A chain of `levels` `then` steps below `top`. */
function chain(levels: number, step: Record<string, unknown> = { targetUrl: target }): Record<string, unknown> {
  const top: Record<string, unknown> = input();
  let at = top;
  for (let i = 0; i < levels; i++) at = at.then = { ...step };
  return top;
}
async function taskCount(s: TestServer): Promise<number> {
  return ((await s.api('/v1/tasks?limit=500')).body.tasks as unknown[]).length;
}

describe('batch routes', () => {
  it('a batch answer has a batchId; its tasks carry it, and GET /v1/batches/:id counts them', async () => {
    const s = await pausedServer();
    const r = await s.api('/v1/tasks/batch', { body: { tasks: [input(), input()], batch: { labels: ['nightly'] } } });
    expect(r.status).toBe(201);
    expect(r.body.batchId).toMatch(/^bat_/);
    expect(r.body.tasks.map((t: { batchId: string }) => t.batchId)).toEqual([r.body.batchId, r.body.batchId]);
    const b = await s.api(`/v1/batches/${r.body.batchId}`);
    expect(b.body).toMatchObject({ id: r.body.batchId, total: 2, counts: { pending: 2 }, done: false, labels: ['nightly'], webhookUrl: null, webhook: null });
    const listed = await s.api(`/v1/tasks?batch=${r.body.batchId}`);
    expect(listed.body.tasks).toHaveLength(2);
    expect((await s.api('/v1/tasks?batch=bat_nothing')).body.tasks).toEqual([]);
    // A single create has no batch.
    expect((await s.api('/v1/tasks', { body: input() })).body).toMatchObject({ batchId: null, parentId: null, nextTaskId: null });
  });

  it('an idempotent repeat in a batch is not a member of it', async () => {
    const s = await pausedServer();
    await s.api('/v1/tasks', { body: input({ idempotencyKey: 'k' }) });
    const r = await s.api('/v1/tasks/batch', { body: { tasks: [input({ idempotencyKey: 'k' }), input()] } });
    expect((await s.api(`/v1/batches/${r.body.batchId}`)).body).toMatchObject({ total: 1, counts: { pending: 1 } });
    const all = await s.api('/v1/tasks/batch', { body: { tasks: [input({ idempotencyKey: 'k' })] } });
    expect((await s.api(`/v1/batches/${all.body.batchId}`)).body).toMatchObject({ total: 0, done: true });
  });

  it('unknown batch ids answer 404; wait beyond 60 or not a number answers 400', async () => {
    const s = await pausedServer();
    const missing = await s.api('/v1/batches/bat_01jd7x0k2m9v4q8r3s6t5w2y1z');
    expect(missing).toMatchObject({ status: 404, body: { error: { code: 'not_found', message: 'batch bat_01jd7x0k2m9v4q8r3s6t5w2y1z not found' } } });
    expect((await s.api('/v1/batches/bat_x?wait=5')).status).toBe(404);
    expect((await s.api(`/v1/batches/${'x'.repeat(65)}`)).status).toBe(400);
    const r = await s.api('/v1/tasks/batch', { body: { tasks: [input()] } });
    for (const wait of ['61', '1e3', '-1', 'abc', '']) {
      const w = await s.api(`/v1/batches/${r.body.batchId}?wait=${wait}`);
      expect(w.status, wait).toBe(400);
      expect(w.body.error.code).toBe('invalid_request');
    }
  });

  it('refuses a bad batch object and a private batch webhook under --block-private-targets, creating nothing', async () => {
    const s = await pausedServer({ blockPrivateTargets: true, allowHosts: ['127.0.0.1'] });
    const bad: [unknown, string][] = [
      [{ tasks: [input()], batch: { webhookUrl: 'ftp://x' } }, 'batch.webhookUrl'],
      [{ tasks: [input()], batch: { labels: Array(11).fill('l') } }, 'batch.labels'],
      [{ tasks: [input()], batch: { surprise: 1 } }, 'batch'],
      [{ tasks: [input()], batch: 'yes' }, 'batch'],
      [{ tasks: [input()], batch: { webhookUrl: 'http://10.0.0.1/done' } }, 'batch.webhookUrl'],
      [{ tasks: [input()], batch: { webhookUrl: 'http://169.254.169.254/latest' } }, 'batch.webhookUrl'],
    ];
    for (const [body, path] of bad) {
      const r = await s.api('/v1/tasks/batch', { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
      expect(r.body.error.details.map((d: { path: unknown[] }) => d.path.join('.'))).toContain(path);
    }
    expect(await taskCount(s)).toBe(0);
  });

  it('takes a batch filter in the bulk actions, and refuses a bad one', async () => {
    const s = await pausedServer();
    const a = await s.api('/v1/tasks/batch', { body: { tasks: [input(), input()] } });
    await s.api('/v1/tasks/batch', { body: { tasks: [input()] } });
    expect((await s.api('/v1/tasks/cancel', { body: { batch: a.body.batchId } })).body).toEqual({ count: 2 });
    expect((await s.api(`/v1/batches/${a.body.batchId}`)).body).toMatchObject({ done: true, counts: { cancelled: 2 } });
    expect((await s.api('/v1/tasks/retry', { body: { batch: a.body.batchId } })).body).toEqual({ count: 2 });
    expect((await s.api(`/v1/batches/${a.body.batchId}`)).body).toMatchObject({ done: false, counts: { pending: 2, cancelled: 0 } });
    expect((await s.api('/v1/tasks/cancel', { body: { batch: '' } })).status).toBe(400);
    expect((await s.api('/v1/tasks/cancel', { body: { batch: 7 } })).status).toBe(400);
  });
});

describe('batch webhook routes', () => {
  it('deliveries and redeliver answer a documented 400 or 404 for malformed and hostile ids, never a 5xx', async () => {
    const s = await pausedServer();
    const cases: [string, number][] = [
      ['x'.repeat(65), 400],
      ['b'.repeat(10_000), 400],
      ['bat_missing', 404],
      ['tsk_01jd7x0k2m9v4q8r3s6t5w2y1z', 404],
      ['%00', 400],
      ['bat_%01%1F%7F', 400],
      ['bat_%27%20OR%201%3D1%20--', 404],
      ['..%2F..%2Fetc%2Fpasswd', 404],
      ['b%C3%A4t_%F0%9F%92%A5', 404],
      ['%E0%A4%A', 404],
    ];
    for (const [id, status] of cases) {
      for (const [method, route] of [['GET', 'deliveries'], ['POST', 'redeliver']] as const) {
        const r = await s.api(`/v1/batches/${id}/${route}`, { method });
        expect(r.status, `${method} ${id.slice(0, 40)}/${route}`).toBe(status);
        expect(r.body.error.code).toBe(status === 400 ? 'invalid_request' : 'not_found');
      }
    }
    // A body on redeliver is not read; the batch is still unknown.
    expect((await s.api('/v1/batches/bat_missing/redeliver', { raw: '{"not json', headers: { 'content-type': 'application/json' } })).status).toBe(404);
  });

  it('need the token like every /v1 route, and are in the OpenAPI document', async () => {
    const s = await pausedServer({ token: 'tok' });
    const r = await s.api('/v1/tasks/batch', { body: { tasks: [input()] } });
    for (const [method, route] of [['GET', 'deliveries'], ['POST', 'redeliver']] as const) {
      expect((await s.api(`/v1/batches/${r.body.batchId}/${route}`, { method, headers: { authorization: '' } })).status).toBe(401);
      expect((await s.api(`/v1/batches/${r.body.batchId}/${route}`, { method, headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    }
    expect((await s.api(`/v1/batches/${r.body.batchId}/deliveries`)).body).toEqual({ deliveries: [] });
    expect((await s.api(`/v1/batches/${r.body.batchId}/redeliver`, { method: 'POST' })).status).toBe(409);
    const doc = (await s.api('/openapi.json')).body;
    expect(Object.keys(doc.paths['/v1/batches/{id}/deliveries'])).toEqual(['get']);
    expect(Object.keys(doc.paths['/v1/batches/{id}/redeliver'])).toEqual(['post']);
    expect(Object.keys(doc.paths['/v1/batches/{id}/redeliver'].post.responses)).toEqual(expect.arrayContaining(['202', '400', '401', '404', '409']));
    expect(doc.paths['/v1/batches/{id}/redeliver'].post.responses['202'].content['application/json'].schema).toEqual({ $ref: '#/components/schemas/Batch' });
  });
});

describe('chain input', () => {
  it('stores a valid chain: 10 levels, then and onFailure at every level', async () => {
    const s = await pausedServer();
    const r = await s.api('/v1/tasks', { body: chain(MAX_CHAIN_DEPTH) });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect(r.body).toMatchObject({ parentId: null, nextTaskId: null });
    const both = input({ then: { targetUrl: target, onFailure: { targetUrl: target } }, onFailure: { targetUrl: target, payload: 1 } });
    expect((await s.api('/v1/tasks', { body: both })).status).toBe(201);
  });

  it('refuses 11 levels, a then with an idempotencyKey and any invalid level, naming its path; nothing is created', async () => {
    const s = await pausedServer({ blockPrivateTargets: true, allowHosts: ['127.0.0.1'] });
    const eleven = await s.api('/v1/tasks', { body: chain(MAX_CHAIN_DEPTH + 1) });
    expect(eleven.status).toBe(400);
    expect(eleven.body.error.details[0].path).toEqual(Array(MAX_CHAIN_DEPTH + 1).fill('then'));
    expect(eleven.body.error.message).toContain(`at most ${MAX_CHAIN_DEPTH} levels`);
    // Deeper than that is not read at all.
    const step = `{"targetUrl":"${target}","then":`;
    const deep = await s.api('/v1/tasks', { raw: `{"targetUrl":"${target}","queue":"hold","then":` + step.repeat(3000) + '{"targetUrl":"x"}' + '}'.repeat(3001), headers: { 'content-type': 'application/json' } });
    expect(deep.status).toBe(400);
    expect(deep.body.error.details[0].path).toEqual(Array(MAX_CHAIN_DEPTH + 1).fill('then'));
    const cases: [Record<string, unknown>, string][] = [
      [input({ then: { targetUrl: target, idempotencyKey: 'k' } }), 'then.idempotencyKey'],
      [input({ then: { then: { targetUrl: 'nope' } , targetUrl: target } }), 'then.then.targetUrl'],
      [input({ then: { targetUrl: target, then: { targetUrl: target, onFailure: { retries: 1 } } } }), 'then.then.onFailure.targetUrl'],
      [input({ onFailure: { targetUrl: target, surprise: 1 } }), 'onFailure'],
      [input({ onFailure: 'http://x' }), 'onFailure'],
      [input({ then: null }), 'then'],
      [input({ then: { targetUrl: target, delay: 1, runAt: '2030-01-01T00:00:00Z' } }), 'then.runAt'],
      [input({ then: { targetUrl: 'http://10.1.2.3/x' } }), 'then.targetUrl'],
      [input({ then: { targetUrl: target, webhookUrl: 'http://192.168.0.1/h' } }), 'then.webhookUrl'],
    ];
    for (const [body, path] of cases) {
      const r = await s.api('/v1/tasks', { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
      expect(r.body.error.details.map((d: { path: unknown[] }) => d.path.join('.')), JSON.stringify(body)).toContain(path);
    }
    // In a batch the path starts with the task's index; the whole batch is refused.
    const inBatch = await s.api('/v1/tasks/batch', { body: { tasks: [input(), input({ then: { targetUrl: 'bad' } })] } });
    expect(inBatch.status).toBe(400);
    expect(inBatch.body.error.details[0].path).toEqual(['tasks', 1, 'then', 'targetUrl']);
    expect(await taskCount(s)).toBe(0);
  });

  it(`refuses a create implying more than ${MAX_IMPLIED_TASKS} tasks, and takes a 10-level chain on each of 1000 batch tasks`, async () => {
    const s = await pausedServer({ maxBody: '16mb' });
    // Every level with both steps: 2^11 − 1 = 2047 tasks implied by one create, ×10 tasks in a batch.
    const full = (levels: number): Record<string, unknown> =>
      levels === 0 ? { targetUrl: target } : { targetUrl: target, then: full(levels - 1), onFailure: full(levels - 1) };
    const tasks = Array.from({ length: 10 }, () => ({ ...full(MAX_CHAIN_DEPTH), queue: 'hold' }));
    const r = await s.api('/v1/tasks/batch', { body: { tasks } });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toContain(`at most ${MAX_IMPLIED_TASKS}`);
    expect(r.body.error.details[0].path).toEqual(['tasks']);
    expect(await taskCount(s)).toBe(0);
    // 1000 tasks, each with a 10-level then chain: 11,000 implied, within the limit.
    const ok = await s.api('/v1/tasks/batch', { body: { tasks: Array.from({ length: 1000 }, () => chain(MAX_CHAIN_DEPTH)) } });
    expect(ok.status).toBe(201);
    expect((await s.api(`/v1/batches/${ok.body.batchId}`)).body).toMatchObject({ total: 1000, counts: { pending: 1000 } });
  });
});
