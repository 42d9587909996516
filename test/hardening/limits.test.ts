// Every input limit answers its documented error (docs/hardening.md) and leaves the server
// healthy with nothing stored: body, request headers and URL, task URL and headers, payload
// depth, batch size, list limit, wait, open long-polls and open event streams.
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { taskInput } from '../helpers/tasks.js';

const T = 'http://127.0.0.1:9/never';

function expectError(r: { status: number; body: any }, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body).slice(0, 300)).toBe(status);
  expect(r.body).toMatchObject({ error: { code, message: expect.any(String) } });
}

async function healthyAndEmpty(s: TestServer) {
  expect((await s.api('/healthz')).status).toBe(200);
  expect((await s.api('/v1/tasks')).body.tasks).toEqual([]);
}

function raw(s: TestServer, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(new URL(s.url).port), '127.0.0.1', () => sock.end(text));
    let out = '';
    sock.on('data', (d) => (out += d));
    sock.on('end', () => resolve(out));
    sock.on('error', reject);
  });
}

describe('request limits', () => {
  it('a body over --max-body is 413 payload_too_large, whether declared or streamed', async () => {
    const s = await startServer({ maxBody: '4kb' });
    expectError(await s.api('/v1/tasks', { body: taskInput(T, { payload: 'x'.repeat(5000) }) }), 413, 'payload_too_large');
    const chunked = await fetch(s.url + '/v1/tasks', {
      method: 'POST', headers: { 'content-type': 'application/json' }, duplex: 'half',
      body: new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode(JSON.stringify(taskInput(T, { payload: 'y'.repeat(9000) })))), c.close()) }),
    } as RequestInit);
    expectError({ status: chunked.status, body: await chunked.json() }, 413, 'payload_too_large');
    await healthyAndEmpty(s);
  });

  it('request headers or a request URL over 16 KiB are 431 with a JSON error body', async () => {
    const s = await startServer();
    const big = await raw(s, `GET /v1/stats HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(17_000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431/);
    expect(JSON.parse(big.slice(big.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: { code: 'invalid_request' } });
    const many = await raw(s, `GET /v1/stats HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `h${i}: v`).join('\r\n')}\r\n\r\n`);
    expect(many).toMatch(/^HTTP\/1\.1 431/);
    const url = await raw(s, `GET /v1/tasks?label=${'b'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(url).toMatch(/^HTTP\/1\.1 431/);
    await healthyAndEmpty(s);
  });

  it('task fields are bounded: URL length, header count and size, payload depth', async () => {
    const s = await startServer({ maxDepth: 8 });
    await s.api('/v1/queues/held', { method: 'PUT', body: { paused: true } });
    expectError(await s.api('/v1/tasks', { body: taskInput(T + '?' + 'q'.repeat(4100)) }), 400, 'invalid_request');
    expectError(await s.api('/v1/tasks', { body: taskInput(T, { headers: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`x-h${i}`, 'v'])) }) }), 400, 'invalid_request');
    expectError(await s.api('/v1/tasks', { body: taskInput(T, { headers: { 'x-big': 'v'.repeat(9000) } }) }), 400, 'invalid_request');
    const deep = (n: number) => JSON.parse('['.repeat(n) + ']'.repeat(n));
    expect((await s.api('/v1/tasks', { body: taskInput(T, { payload: deep(8), queue: 'held' }) })).status).toBe(201);
    const tooDeep = await s.api('/v1/tasks', { body: taskInput(T, { payload: deep(9) }) });
    expectError(tooDeep, 400, 'invalid_request');
    expect(tooDeep.body.error.details).toEqual([{ path: ['payload'], message: 'too deep' }]);
    // 100,000 levels: parsed without a stack overflow and refused the same way.
    const r = await s.api('/v1/tasks', { raw: `{"targetUrl":"${T}","payload":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, headers: { 'content-type': 'application/json' } });
    expectError(r, 400, 'invalid_request');
    expect((await s.api('/v1/stats')).body.counts.pending).toBe(1);
  });

  it('batch size, list limit and wait are bounded (400 invalid_request)', async () => {
    const s = await startServer();
    const r = await s.api('/v1/tasks/batch', { body: { tasks: Array.from({ length: 1001 }, () => ({ targetUrl: T })) } });
    expectError(r, 400, 'invalid_request');
    expect(r.body.error.details[0].path).toEqual(['tasks']);
    expectError(await s.api('/v1/tasks?limit=501'), 400, 'invalid_request');
    expectError(await s.api('/v1/tasks?limit=0'), 400, 'invalid_request');
    expectError(await s.api('/v1/tasks/tsk_x?wait=61'), 400, 'invalid_request');
    expectError(await s.api('/v1/tasks?wait=61', { body: taskInput(T) }), 400, 'invalid_request');
    expectError(await s.api('/v1/tasks/cancel', { body: { ids: Array.from({ length: 10_001 }, (_, i) => 'tsk_' + i) } }), 400, 'invalid_request');
    await healthyAndEmpty(s);
  });
});

describe('connection limits', () => {
  it('long-polls past --max-waiters get 503 unavailable; a create with ?wait= is refused before storing', async () => {
    const s = await startServer({ maxWaiters: 2 });
    await s.api('/v1/queues/held', { method: 'PUT', body: { paused: true } });
    const t = (await s.api('/v1/tasks', { body: taskInput(T, { queue: 'held' }) })).body;
    const aborts = [new AbortController(), new AbortController()];
    const held = aborts.map((a) => fetch(`${s.url}/v1/tasks/${t.id}?wait=30`, { signal: a.signal }).catch(() => undefined));
    for (let i = 0; i < 200; i++) {
      const r = await s.api(`/v1/tasks/${t.id}?wait=30`);
      if (r.status === 503) {
        expectError(r, 503, 'unavailable');
        expect(r.headers.get('retry-after')).toBe('1');
        break;
      }
      if (i === 199) throw new Error('waits were never refused');
    }
    const before = (await s.api('/v1/stats')).body.counts;
    expectError(await s.api('/v1/tasks?wait=5', { body: taskInput(T, { queue: 'held' }) }), 503, 'unavailable');
    expect((await s.api('/v1/stats')).body.counts).toEqual(before);
    for (const a of aborts) a.abort();
    await Promise.all(held);
    // The slots come back once the clients go away.
    for (let i = 0; i < 200; i++) {
      const r = await s.api(`/v1/tasks/${t.id}?wait=0.01`);
      if (r.status === 200) break;
      if (i === 199) throw new Error('wait slots never came back');
    }
  });

  it('event streams past --max-sse-clients get 503 unavailable, and the slot frees on disconnect', async () => {
    const s = await startServer({ maxSseClients: 2 });
    const open = async () => {
      const a = new AbortController();
      const res = await fetch(s.url + '/v1/events', { signal: a.signal });
      return { res, a };
    };
    const first = [await open(), await open()];
    for (const f of first) expect(f.res.status).toBe(200);
    const third = await s.api('/v1/events');
    expectError(third, 503, 'unavailable');
    first[0]!.a.abort();
    for (let i = 0; i < 200; i++) {
      const again = await open();
      if (again.res.status === 200) {
        again.a.abort();
        break;
      }
      await again.res.text();
      if (i === 199) throw new Error('the stream slot never came back');
    }
    first[1]!.a.abort();
    expect((await s.api('/healthz')).status).toBe(200);
  });
});
