import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

const target = 'http://127.0.0.1:9/never';

function expectError(r: { status: number; body: any }, status: number, code: string) {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body).toMatchObject({ error: { code, message: expect.any(String) } });
  expect(JSON.stringify(r.body)).not.toMatch(/at .*\.(ts|js):\d+/); // no stack traces
}

async function totals(s: TestServer) {
  return (await s.api('/v1/stats')).body.counts;
}

/** Sends raw bytes and returns the raw answer (for requests fetch refuses to make). */
function rawRequest(s: TestServer, text: string): Promise<string> {
  const { port } = new URL(s.url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), '127.0.0.1', () => sock.end(text));
    let out = '';
    sock.on('data', (d) => (out += d));
    sock.on('end', () => resolve(out));
    sock.on('error', reject);
  });
}

describe('hostile input gets the documented error and changes nothing', () => {
  it('refuses bad create bodies field by field with 400 invalid_request and the failing path', async () => {
    const s = await startServer();
    const before = await totals(s);
    const cases: [unknown, (string | number)[]][] = [
      [{}, ['targetUrl']],
      [{ targetUrl: 42 }, ['targetUrl']],
      [{ targetUrl: 'ftp://x.example/a' }, ['targetUrl']],
      [{ targetUrl: 'javascript:alert(1)' }, ['targetUrl']],
      [{ targetUrl: '/relative' }, ['targetUrl']],
      [{ targetUrl: 'http://user:pass@example.com/' }, ['targetUrl']],
      [{ targetUrl: 'http://example.com/' + 'a'.repeat(5000) }, ['targetUrl']],
      [{ targetUrl: target, webhookUrl: 'file:///etc/passwd' }, ['webhookUrl']],
      [{ targetUrl: target, method: 'TRACE' }, ['method']],
      [{ targetUrl: target, retries: -1 }, ['retries']],
      [{ targetUrl: target, retries: 101 }, ['retries']],
      [{ targetUrl: target, retries: 1.5 }, ['retries']],
      [{ targetUrl: target, webhookRetries: 1000 }, ['webhookRetries']],
      [{ targetUrl: target, timeout: 0 }, ['timeout']],
      [{ targetUrl: target, timeout: 86401 }, ['timeout']],
      [{ targetUrl: target, timeout: '30' }, ['timeout']],
      [{ targetUrl: target, delay: -5 }, ['delay']],
      [{ targetUrl: target, runAt: 'tomorrow' }, ['runAt']],
      [{ targetUrl: target, runAt: '2030-01-01T00:00:00Z', delay: 5 }, ['runAt']],
      [{ targetUrl: target, queue: 'no spaces' }, ['queue']],
      [{ targetUrl: target, queue: 'x'.repeat(65) }, ['queue']],
      [{ targetUrl: target, priority: 101 }, ['priority']],
      [{ targetUrl: target, idempotencyKey: 'k'.repeat(201) }, ['idempotencyKey']],
      [{ targetUrl: target, labels: Array.from({ length: 11 }, (_, i) => String(i)) }, ['labels']],
      [{ targetUrl: target, labels: ['x'.repeat(65)] }, ['labels', 0]],
      [{ targetUrl: target, headers: { Host: 'evil' } }, ['headers', 'Host']],
      [{ targetUrl: target, headers: { Connection: 'close' } }, ['headers', 'Connection']],
      [{ targetUrl: target, headers: { 'Transfer-Encoding': 'chunked' } }, ['headers', 'Transfer-Encoding']],
      [{ targetUrl: target, headers: { 'X-A': 'a\r\nInjected: 1' } }, ['headers', 'X-A']],
      [{ targetUrl: target, headers: { 'bad name': 'x' } }, ['headers', 'bad name']],
      [{ targetUrl: target, headers: { 'X-N': 5 } }, ['headers', 'X-N']],
      [{ targetUrl: target, backoff: { initial: -1 } }, ['backoff', 'initial']],
      [{ targetUrl: target, backoff: { factor: 0.5 } }, ['backoff', 'factor']],
      [{ targetUrl: target, backoff: { jitter: true } }, ['backoff']],
      [{ targetUrl: target, unknownField: 1 }, []],
      [[], []],
      ['a string', []],
      [null, []],
    ];
    for (const [body, path] of cases) {
      const r = await s.api('/v1/tasks', { body });
      expectError(r, 400, 'invalid_request');
      if (path.length > 0) expect(r.body.error.details?.[0]?.path, JSON.stringify(body).slice(0, 80)).toEqual(path);
    }
    expect(await totals(s)).toEqual(before);
  });

  it('refuses malformed JSON, wrong media types, oversize and deeply nested bodies', async () => {
    const s = await startServer({ maxBody: 64 * 1024 });
    const before = await totals(s);
    for (const raw of ['{', '{"targetUrl":', 'nul', '{"a":1}}', '\u0000']) {
      expectError(await s.api('/v1/tasks', { raw, headers: { 'content-type': 'application/json' }, method: 'POST' }), 400, 'invalid_request');
    }
    expectError(await s.api('/v1/tasks', { raw: 'targetUrl=x', headers: { 'content-type': 'application/x-www-form-urlencoded' }, method: 'POST' }), 415, 'unsupported_media_type');
    expectError(await s.api('/v1/tasks', { raw: '{"targetUrl":"http://a.b/"}', headers: { 'content-type': 'text/plain' }, method: 'POST' }), 415, 'unsupported_media_type');
    expectError(await s.api('/v1/tasks', { body: { targetUrl: target, payload: 'x'.repeat(70 * 1024) } }), 413, 'payload_too_large');
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    expectError(await s.api('/v1/tasks', { raw: `{"targetUrl":"${target}","payload":${deep}}`, headers: { 'content-type': 'application/json' }, method: 'POST' }), 400, 'invalid_request');
    const deepBatch = `{"tasks":[{"targetUrl":"${target}","payload":${deep}}]}`;
    expectError(await s.api('/v1/tasks/batch', { raw: deepBatch, headers: { 'content-type': 'application/json' }, method: 'POST' }), 400, 'invalid_request');
    expectError(await s.api('/v1/queues/q', { method: 'PUT', raw: '{"paused":', headers: { 'content-type': 'application/json' } }), 400, 'invalid_request');
    expectError(await s.api('/v1/tasks/retry', { raw: '{"ids":"all"}', headers: { 'content-type': 'application/json' }, method: 'POST' }), 400, 'invalid_request');
    expect(await totals(s)).toEqual(before);
    expect((await s.api('/healthz')).body).toEqual({ ok: true });
  });

  it('answers unknown routes 404, wrong methods 405, unknown ids 404, all in the error shape', async () => {
    const s = await startServer();
    expectError(await s.api('/v1/nothing'), 404, 'not_found');
    expectError(await s.api('/nothing/at/all'), 404, 'not_found');
    const put = await s.api('/v1/tasks', { method: 'PUT', body: {} });
    expectError(put, 405, 'method_not_allowed');
    expect(put.headers.get('allow')).toMatch(/POST/);
    expectError(await s.api('/v1/queues', { method: 'DELETE' }), 405, 'method_not_allowed');
    expectError(await s.api('/v1/tasks/tsk_00000000000000000000000000'), 404, 'not_found');
    expectError(await s.api('/v1/tasks/' + encodeURIComponent("'; DROP TABLE tasks; --")), 404, 'not_found');
    expectError(await s.api('/v1/tasks/' + 'x'.repeat(65)), 400, 'invalid_request');
  });

  it('answers huge headers and broken HTTP with a JSON error and stays healthy', async () => {
    const s = await startServer();
    const huge = await rawRequest(s, `GET /v1/stats HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431/);
    expect(huge).toMatch(/"code":"invalid_request"/);
    const broken = await rawRequest(s, 'NOT HTTP AT ALL\r\n\r\n');
    expect(broken).toMatch(/^HTTP\/1\.1 400/);
    expect((await s.api('/healthz')).status).toBe(200);
  });

  it('with a token, every /v1 route needs it (401 in the error shape), and several tokens rotate', async () => {
    const s = await startServer({ token: 'old-token,new-token' });
    const routes: [string, string][] = [['GET', '/v1/tasks'], ['POST', '/v1/tasks'], ['GET', '/v1/tasks/x'], ['POST', '/v1/tasks/batch'], ['GET', '/v1/queues'], ['PUT', '/v1/queues/q'], ['GET', '/v1/stats'], ['GET', '/v1/events'], ['POST', '/v1/tasks/cancel']];
    for (const [method, path] of routes) {
      for (const auth of [undefined, 'Bearer wrong', 'Basic b2xkLXRva2Vu', 'Bearer ']) {
        const r = await s.api(path, { method, headers: auth ? { authorization: auth } : { authorization: '' }, body: method === 'GET' ? undefined : {} });
        expectError(r, 401, 'unauthorized');
      }
    }
    for (const token of ['old-token', 'new-token']) {
      expect((await s.api('/v1/stats', { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    }
  });
});
