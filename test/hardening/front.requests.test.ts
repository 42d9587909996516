// Requests that never reach a route: every one is answered in the error shape (api.md §3) and
// the connection closed, nothing is logged as an error, and on loopback only loopback Host
// names are answered (DNS rebinding), unless --allowed-hosts names them.
import { describe, expect, it } from 'vitest';
import { isLoopbackInterface, loopbackHostAllowed } from '../../src/api/front.js';
import { createLogger } from '../../src/log.js';
import { rawRequest } from '../helpers/raw.js';
import { startServer } from '../helpers/server.js';

function capture() {
  const lines: { level: string; msg: string }[] = [];
  return { lines, logger: createLogger('debug', (l) => lines.push(JSON.parse(l))) };
}

describe('requests outside the routes', () => {
  it('no Host, OPTIONS *, CONNECT, a bad target or Host: each answered in the error shape, closed, and not logged as an error', async () => {
    const log = capture();
    const s = await startServer({ logger: log.logger });
    const cases: [string, number, string | null][] = [
      ['GET /healthz HTTP/1.1\r\n\r\n', 400, 'invalid_request'],
      ['GET /v1/tasks HTTP/1.1\r\nConnection: close\r\n\r\n', 400, 'invalid_request'],
      ['GET * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 400, 'invalid_request'],
      ['CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 405, 'method_not_allowed'],
      ['GET /healthz HTTP/1.1\r\nHost: a b\r\n\r\n', 400, 'invalid_request'],
      ['GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:99999\r\n\r\n', 400, 'invalid_request'],
      ['GET healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 400, 'invalid_request'],
      ['GET /\\\\evil HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n', 400, 'invalid_request'],
    ];
    for (const [text, status, code] of cases) {
      const r = await rawRequest(s.url, text);
      expect([r.status, r.closed], text).toEqual([status, true]);
      expect(JSON.parse(r.body), text).toMatchObject({ error: { code, message: expect.any(String) } });
    }
    // HTTP/1.0 may leave Host out: answered as if it named this server.
    const old = await rawRequest(s.url, 'GET /healthz HTTP/1.0\r\n\r\n');
    expect([old.status, JSON.parse(old.body)]).toEqual([200, { ok: true }]);
    // OPTIONS * asks about the server (RFC 9110 §9.3.7).
    const options = await rawRequest(s.url, 'OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(options.status).toBe(204);
    expect(options.headers.allow).toContain('POST');
    // 200 such requests in a row hold no socket open and write no error line.
    const held = await Promise.all(Array.from({ length: 200 }, () => rawRequest(s.url, 'GET /healthz HTTP/1.1\r\n\r\n')));
    expect(held.every((r) => r.closed && r.status === 400)).toBe(true);
    expect(log.lines.filter((l) => l.level === 'error' || l.level === 'warn')).toEqual([]);
    expect((await s.api('/healthz')).status).toBe(200);
  });
});

describe('Host check on loopback (DNS rebinding)', () => {
  const create = (url: string, host: string) =>
    rawRequest(url, `POST /v1/tasks HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 36\r\nConnection: close\r\n\r\n{"targetUrl":"http://127.0.0.1:9/x"}`);

  it('a request naming another host is refused with 403 forbidden and stores nothing; loopback names and IP literals are answered', async () => {
    const s = await startServer();
    const port = new URL(s.url).port;
    for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.nip.io:${port}`, 'localhost.evil.example']) {
      const r = await create(s.url, host);
      expect(r.status, host).toBe(403);
      expect(JSON.parse(r.body).error).toMatchObject({ code: 'forbidden', message: expect.stringContaining('--allowed-hosts') });
      const page = await rawRequest(s.url, `GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
      expect(page.status, host).toBe(403);
    }
    expect((await s.api('/v1/tasks')).body.tasks).toEqual([]);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'LOCALHOST', `[::1]:${port}`, 'app.localhost', '10.0.0.5']) {
      expect((await create(s.url, host)).status, host).toBe(201);
    }
  });

  it('--allowed-hosts adds names (exact, *.suffix) and "*" turns the check off', async () => {
    const s = await startServer({ allowedHosts: 'queue.example,*.svc.example' });
    expect((await create(s.url, 'queue.example')).status).toBe(201);
    expect((await create(s.url, 'a.b.svc.example:8700')).status).toBe(201);
    expect((await create(s.url, 'other.example')).status).toBe(403);
    const open = await startServer({ allowedHosts: '*' });
    expect((await create(open.url, 'anything.example')).status).toBe(201);
  });

  it('the check applies only to loopback interfaces', () => {
    expect(['127.0.0.1', '127.9.9.9', '::1', '[::1]', 'localhost'].map(isLoopbackInterface)).toEqual([true, true, true, true, true]);
    expect(['0.0.0.0', '::', '192.168.1.5', 'example.com'].map(isLoopbackInterface)).toEqual([false, false, false, false]);
    expect(loopbackHostAllowed('evil.example', [])).toBe(false);
    expect(loopbackHostAllowed('[fe80::1]', [])).toBe(true);
  });
});
