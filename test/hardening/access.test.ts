// Access: several tokens at once (rotation), every route but /healthz and /openapi.json closed,
// credentials masked in every API answer and log line while the target still gets the real
// values, CORS off unless configured.
import { describe, expect, it } from 'vitest';
import { tokenChecker } from '../../src/api/auth.js';
import { maskFields, maskHeaders } from '../../src/shared/mask.js';
import { createLogger } from '../../src/log.js';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput, waitForTerminal } from '../helpers/tasks.js';

const OLD = 'old-token-0123456789abcdef';
const NEW = 'new-token-fedcba9876543210';

const ROUTES: [string, string][] = [
  ['GET', '/v1/tasks'], ['POST', '/v1/tasks'], ['POST', '/v1/tasks/batch'], ['GET', '/v1/tasks/tsk_x'], ['GET', '/v1/tasks/tsk_x/attempts'],
  ['POST', '/v1/tasks/tsk_x/cancel'], ['POST', '/v1/tasks/tsk_x/retry'], ['DELETE', '/v1/tasks/tsk_x'], ['POST', '/v1/tasks/cancel'],
  ['POST', '/v1/tasks/retry'], ['GET', '/v1/queues'], ['PUT', '/v1/queues/q'], ['GET', '/v1/stats'], ['GET', '/v1/events'], ['GET', '/metrics'],
  ['GET', '/v1/nonexistent'],
];

describe('tokens', () => {
  it('the checker accepts each configured token and nothing near it, comparing fixed-size digests', () => {
    const check = tokenChecker([OLD, NEW]);
    expect(check(OLD)).toBe(true);
    expect(check(NEW)).toBe(true);
    for (const bad of [undefined, '', OLD.slice(0, -1), OLD + 'x', OLD.toUpperCase(), `${OLD},${NEW}`, ' ' + OLD]) expect(check(bad)).toBe(false);
    expect(tokenChecker([])('anything')).toBe(true);
  });

  it('with tokens, every route but /healthz and /openapi.json answers 401 without one, and either token works (rotation)', async () => {
    const s = await startServer({ token: `${OLD},${NEW}` });
    for (const [method, path] of ROUTES) {
      for (const auth of [undefined, 'Bearer wrong', `Basic ${OLD}`, `Bearer ${OLD.slice(1)}`]) {
        const res = await fetch(s.url + path, { method, headers: { ...(auth ? { authorization: auth } : {}), 'content-type': 'application/json' }, body: method === 'GET' || method === 'DELETE' ? undefined : '{}' });
        expect(res.status, `${method} ${path} with ${auth}`).toBe(401);
        expect(await res.json()).toEqual({ error: { code: 'unauthorized', message: 'missing or invalid bearer token' } });
      }
    }
    for (const token of [OLD, NEW]) {
      const r = await s.api('/v1/stats', { headers: { authorization: `Bearer ${token}` } });
      expect(r.status).toBe(200);
    }
    expect((await fetch(s.url + '/healthz')).status).toBe(200);
    // Decision (SECURITY.md): /openapi.json stays open; it is the same text for every install of
    // a version, holds no data, and shows that a bearer token is required.
    const doc = await (await fetch(s.url + '/openapi.json')).text();
    expect(JSON.parse(doc).security).toEqual([{ bearer: [] }]);
    expect(doc).not.toContain(OLD);
    expect(doc).not.toContain(NEW);
  });
});

describe('masking', () => {
  it('shows credential-looking task headers masked in every answer while the target receives the real values', async () => {
    const target = await startTarget();
    const s = await startServer({ token: NEW });
    const headers = {
      Authorization: 'Bearer sk_live_51HxYzAbCdEf0123456789',
      'X-Api-Key': 'short-key',
      Cookie: 'session=abcdefghijklmnop1234',
      'X-Github-Token': 'ghp_aaaaaaaaaaaaaaaaaaaaWXYZ',
      'X-Request-Signature': 'sig',
      'X-Trace-Id': 'trace-visible',
    };
    const created = await s.api('/v1/tasks', { body: taskInput(target.url + '/m', { headers }) });
    expect(created.status).toBe(201);
    const masked = {
      Authorization: '••••6789',
      'X-Api-Key': '[masked]',
      Cookie: '••••1234',
      'X-Github-Token': '••••WXYZ',
      'X-Request-Signature': '[masked]',
      'X-Trace-Id': 'trace-visible',
    };
    expect(created.body.headers).toEqual(masked);
    await waitForTerminal(s, created.body.id);
    await s.api('/v1/queues/paused', { method: 'PUT', body: { paused: true } });
    const answers = [
      (await s.api(`/v1/tasks/${created.body.id}`)).body,
      (await s.api('/v1/tasks')).body.tasks[0],
      (await s.api('/v1/tasks/batch', { body: { tasks: [taskInput(target.url + '/m2', { headers, queue: 'paused' })] } })).body.tasks[0],
    ];
    for (const a of answers) expect(a.headers).toEqual(masked);
    const id = answers[2].id;
    expect((await s.api(`/v1/tasks/${id}/cancel`, { method: 'POST' })).body.headers).toEqual(masked);
    expect((await s.api(`/v1/tasks/${id}/retry`, { method: 'POST' })).body.headers).toEqual(masked);
    const sent = target.requests[0]!.headers;
    expect(sent.authorization).toBe(headers.Authorization);
    expect(sent['x-api-key']).toBe('short-key');
    expect(sent.cookie).toBe(headers.Cookie);
    expect(sent['x-github-token']).toBe(headers['X-Github-Token']);
    expect(sent['x-request-signature']).toBe('sig');
  });

  it('masks by name: the listed headers and any name containing token, secret, key, password, auth or signature', () => {
    const out = maskHeaders({ 'proxy-authorization': 'x', 'set-cookie': 'y', 'x-client-secret': 'z', 'x-password': 'p', 'x-auth-user': 'u', 'content-type': 'text/plain', accept: '*/*' });
    expect(out).toEqual({ 'proxy-authorization': '[masked]', 'set-cookie': '[masked]', 'x-client-secret': '[masked]', 'x-password': '[masked]', 'x-auth-user': '[masked]', 'content-type': 'text/plain', accept: '*/*' });
    expect(maskFields({ token: 'abc', nested: { signingSecret: 'whsec_0123456789abcdefghij', list: [{ apiKey: 1 }] }, tokens: ['a', 'b'], task: 'tsk_1' })).toEqual({
      token: '[masked]', nested: { signingSecret: '••••ghij', list: [{ apiKey: '[masked]' }] }, tokens: ['[masked]', '[masked]'], task: 'tsk_1',
    });
  });

  it('no log line at debug level carries a token, the signing secret or a task credential', async () => {
    const lines: string[] = [];
    const secret = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
    const target = await startTarget(() => ({ status: 500, body: 'nope' }));
    const s = await startServer({ token: NEW, signingSecret: secret, logger: createLogger('debug', (l) => lines.push(l)) });
    const credential = 'Bearer very-secret-credential-42';
    const t = await s.api('/v1/tasks', { body: taskInput(target.url + '/l', { headers: { authorization: credential }, retries: 1 }) });
    await waitForTerminal(s, t.body.id);
    await fetch(s.url + '/v1/stats', { headers: { authorization: 'Bearer guessed-token-123' } });
    createLogger('info', (l) => lines.push(l)).warn('a careless line', { token: NEW, headers: { authorization: credential } });
    const all = lines.join('');
    expect(lines.length).toBeGreaterThan(3);
    for (const needle of [NEW, secret, secret.slice(6), 'very-secret-credential', 'guessed-token']) expect(all).not.toContain(needle);
  });
});

describe('CORS', () => {
  it('is off by default: no Access-Control headers, preflight is not answered', async () => {
    const s = await startServer();
    const res = await fetch(s.url + '/v1/stats', { headers: { origin: 'https://evil.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const pre = await fetch(s.url + '/v1/tasks', { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('with --cors-origin, only the listed origins get CORS headers; preflight needs no token', async () => {
    const s = await startServer({ corsOrigins: 'https://app.example,https://admin.example', token: NEW });
    const pre = await fetch(s.url + '/v1/tasks', { method: 'OPTIONS', headers: { origin: 'https://app.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example');
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    const ok = await s.api('/v1/stats', { headers: { origin: 'https://admin.example' } });
    expect(ok.headers.get('access-control-allow-origin')).toBe('https://admin.example');
    const other = await s.api('/v1/stats', { headers: { origin: 'https://evil.example' } });
    expect(other.status).toBe(200);
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });
});
