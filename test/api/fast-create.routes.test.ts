// The raw create path in front of Hono answers exactly as the Hono routes do: the same
// requests sent once plainly (raw path) and once with a query string (which always goes to
// Hono) get the same status, body shape and headers, valid or not; unusual requests fall back.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createApp } from '../../src/api/app.js';
import type { ApiDeps } from '../../src/api/deps.js';
import { fastCreateListener } from '../../src/api/fast-create.js';
import { systemClock } from '../../src/clock.js';
import { TaskEvents } from '../../src/dispatch/events.js';
import { createLogger } from '../../src/log.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers/temp.js';

const TOKEN = 'fast-path-token-0123456789';

async function start(opts: Partial<ApiDeps> = {}) {
  const store = new SqliteStore({ file: path.join(tempDir(), 'aq.db') });
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('debug', (l) => lines.push(JSON.parse(l)));
  let wakes = 0;
  const deps: ApiDeps = {
    store, events: new TaskEvents(), clock: systemClock, log, wake: () => void wakes++, inFlight: () => 0, tokens: [TOKEN],
    maxBody: 4096, maxDepth: 8, maxWaiters: 10, maxSseClients: 10, corsOrigins: [], version: 'test',
    refusedUrl: (u) => (u.includes('blocked.example') ? 'blocked.example is refused' : undefined), ...opts,
  };
  const { app } = createApp(deps);
  const listener = fastCreateListener(deps, getRequestListener(app.fetch));
  const server = http.createServer(listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await store.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const send = async (p: string, body: string, headers: Record<string, string> = {}) => {
    const res = await fetch(url + p, { method: 'POST', body, headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', ...headers } });
    const text = await res.text();
    const names = [...res.headers.keys()].filter((k) => k !== 'date' && k !== 'keep-alive' && k !== 'connection').sort();
    return { status: res.status, body: text ? JSON.parse(text) : null, names, headers: res.headers };
  };
  return { url, deps, counts: listener.counts, lines, send, wakes: () => wakes };
}

/** A task body with its per-task values (id, times) replaced, so two answers compare. */
const shape = (b: unknown): unknown =>
  JSON.parse(JSON.stringify(b), (k, v) => (['id', 'batchId', 'createdAt', 'updatedAt', 'runAt'].includes(k) && typeof v === 'string' ? '*' : v));

const task = (extra: Record<string, unknown> = {}) => ({ targetUrl: 'http://127.0.0.1:9/x', queue: 'q', ...extra });
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n);

describe('raw create path', () => {
  it('answers like the Hono routes for valid and invalid requests alike', async () => {
    const s = await start();
    const cases: [string, string, Record<string, string>?][] = [
      ['/v1/tasks', JSON.stringify(task({ payload: { a: 1 }, headers: { 'X-Api-Key': 'secret-value-long-enough', 'x-b': 'c' }, labels: ['l'], delay: 3600 }))],
      ['/v1/tasks', JSON.stringify(task({ idempotencyKey: 'KEY-body' }))],
      ['/v1/tasks', JSON.stringify(task()), { 'idempotency-key': 'KEY-header' }],
      ['/v1/tasks', JSON.stringify(task()), { 'idempotency-key': 'x'.repeat(201) }],
      ['/v1/tasks', JSON.stringify(task({ retries: 101 }))],
      ['/v1/tasks', JSON.stringify(task({ surprise: true }))],
      ['/v1/tasks', JSON.stringify(task({ targetUrl: 'HTTPS://Worker.Example/Ä?x=1', webhookUrl: 'http://h.example/' }))],
      ['/v1/tasks', '\ufeff' + JSON.stringify(task())],
      ['/v1/tasks', 'null'],
      ['/v1/tasks', JSON.stringify({ payload: 1 })],
      ['/v1/tasks', '{"targetUrl": '],
      ['/v1/tasks', JSON.stringify(task({ payload: JSON.parse(deep(20)) }))],
      ['/v1/tasks', JSON.stringify(task({ targetUrl: 'http://blocked.example/x' }))],
      ['/v1/tasks', JSON.stringify(task({ payload: 'x'.repeat(5000) }))],
      ['/v1/tasks', JSON.stringify(task()), { 'content-type': 'text/plain' }],
      ['/v1/tasks', JSON.stringify(task()), { authorization: 'Bearer wrong' }],
      ['/v1/tasks', JSON.stringify(task()), { 'x-request-id': 'my-request.1' }],
      ['/v1/tasks/batch', JSON.stringify({ tasks: [task({ payload: 1 }), task({ payload: 2 })] })],
      ['/v1/tasks/batch', JSON.stringify({ tasks: [task(), task({ priority: 1000 })] })],
      ['/v1/tasks/batch', JSON.stringify({ tasks: [task(), task({ webhookUrl: 'http://blocked.example/h' })] })],
      ['/v1/tasks/batch', JSON.stringify({ tasks: [] })],
    ];
    // An idempotency key (KEY) is made distinct per path, so both create; each path is then
    // asked again and answers 200 with its task.
    const keyed = (text: string, via: string) => text.replaceAll('KEY', via);
    const again: [string, string, Record<string, string>, string][] = [];
    for (const [p, body, headers = {}] of cases) {
      const h = (via: string) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, keyed(v, via)]));
      const viaHono = await s.send(p + '?via=hono', keyed(body, 'hono'), h('hono'));
      const viaRaw = await s.send(p, keyed(body, 'raw'), h('raw'));
      expect({ p, body, status: viaRaw.status, names: viaRaw.names }).toEqual({ p, body, status: viaHono.status, names: viaHono.names });
      if (viaHono.status === 201) {
        expect(viaRaw.headers.get('content-type')).toBe(viaHono.headers.get('content-type'));
        const norm = (b: unknown) => JSON.parse(JSON.stringify(shape(b)).replaceAll('raw', 'hono'));
        expect(norm(viaRaw.body)).toEqual(norm(viaHono.body));
        if (body.includes('KEY') || JSON.stringify(headers).includes('KEY')) again.push([p, keyed(body, 'raw'), h('raw'), viaRaw.body.id]);
      } else {
        expect(viaRaw.body).toEqual(viaHono.body);
      }
      if (headers['x-request-id']) expect(viaRaw.headers.get('x-request-id')).toBe('my-request.1');
    }
    expect(again).toHaveLength(2);
    for (const [p, body, headers, id] of again) expect(await s.send(p, body, headers)).toMatchObject({ status: 200, body: { id } });
    // Plain valid creates (the BOM-prefixed one included: both paths decode UTF-8 dropping it),
    // and the depth / URL-policy refusals, which the route makes after zod, were answered by
    // the raw path; the rest went to Hono.
    expect(s.counts.fast).toBe(10 + again.length);
  });

  it('takes plain creates itself: stored, woken, logged at debug with the request id', async () => {
    const s = await start();
    const r = await s.send('/v1/tasks', JSON.stringify(task({ payload: [1, 2] })), { 'x-request-id': 'rid-1' });
    expect(r.status).toBe(201);
    expect(s.counts).toEqual({ fast: 1, fallback: 0 });
    expect(s.wakes()).toBe(1);
    expect((await s.deps.store.getTask(r.body.id))?.payload).toEqual([1, 2]);
    expect(s.lines).toContainEqual(expect.objectContaining({ msg: 'request', requestId: 'rid-1', method: 'POST', path: '/v1/tasks', status: 201 }));
  });

  it('leaves chunked bodies, CORS servers, other methods and paths to Hono', async () => {
    const s = await start();
    const stream = new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(JSON.stringify(task()))), c.close()) });
    const res = await fetch(s.url + '/v1/tasks', {
      method: 'POST', body: stream, duplex: 'half', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    } as RequestInit);
    expect(res.status).toBe(201);
    expect((await s.send('/v1/tasks/', JSON.stringify(task()))).status).toBe(405); // Hono's answer: routes are strict
    expect(s.counts.fast).toBe(0);
    const cors = await start({ corsOrigins: ['https://app.example'] });
    expect((await cors.send('/v1/tasks', JSON.stringify(task()))).status).toBe(201);
    expect(cors.counts.fast).toBe(0);
  });
});
