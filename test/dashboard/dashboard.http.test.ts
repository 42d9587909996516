// The dashboard over plain HTTP against a real server: login gate and cookie, the cross-site
// guard on cookie-authenticated writes, security headers, the exposure banner.
import { Hono } from 'hono';
import { describe, expect, test } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createDashboard } from '../../src/dashboard/index.js';
import { silentLogger } from '../../src/log.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import path from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { createTask, taskInput } from '../helpers/tasks.js';

const TOKEN = 'tok-http-test-9f3a';

async function login(server: TestServer, token = TOKEN, origin = server.url): Promise<Response> {
  return fetch(server.url + '/login', {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
    body: new URLSearchParams({ token, next: '/tasks' }),
  });
}

async function session(server: TestServer): Promise<string> {
  const res = await login(server);
  expect(res.status).toBe(303);
  return res.headers.get('set-cookie')!.split(';')[0]!;
}

describe('login redirect target', () => {
  test('next= is only followed to paths of this site as browsers resolve them, and odd bytes give a redirect home, never a 500', async () => {
    const server = await startServer({ token: TOKEN });
    const cookie = await session(server);
    for (const next of ['/%09/evil.example', '/%0A/evil.example', '/%5Cevil.example', '/a/..//evil.example', '/%0B', '/%7F', '/%00']) {
      const signedIn = await fetch(`${server.url}/login?next=${next}`, { redirect: 'manual', headers: { cookie } });
      expect([signedIn.status, signedIn.headers.get('location')], next).toEqual([303, '/']);
      const form = await fetch(server.url + '/login', {
        method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
        body: `token=${TOKEN}&next=${next}`,
      });
      expect([form.status, form.headers.get('location')], next).toEqual([303, '/']);
    }
    const ok = await fetch(`${server.url}/login?next=${encodeURIComponent('/tasks?status=failed')}`, { redirect: 'manual', headers: { cookie } });
    expect(ok.headers.get('location')).toBe('/tasks?status=failed');
  });
});

describe('dashboard login and session', () => {
  test('with a token, pages redirect to the login form and show no task data', async () => {
    const server = await startServer({ token: TOKEN });
    const target = await startTarget();
    const task = await createTask(server, taskInput(target.url, { delay: 3600 }));
    for (const path of ['/', '/tasks', `/tasks/${task.id}`, '/schedules']) {
      const res = await fetch(server.url + path, { redirect: 'manual' });
      expect(res.status, path).toBe(303);
      expect(res.headers.get('location')).toBe(`/login?next=${encodeURIComponent(path)}`);
      expect(await res.text()).not.toContain(task.id);
    }
    const form = await fetch(server.url + '/login');
    expect(form.status).toBe(200);
    expect(await form.text()).toContain('name="token"');
  });

  test('logging in sets an HttpOnly SameSite=Strict cookie holding a session id and an HMAC, not the token', async () => {
    const server = await startServer({ token: TOKEN });
    const res = await login(server);
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('/tasks');
    const cookie = res.headers.get('set-cookie')!;
    expect(cookie).toMatch(/^aq_session=\d+\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=604800$/);
    expect(cookie).not.toContain(TOKEN);
    const page = await fetch(server.url + '/tasks', { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect((await fetch(server.url + '/v1/stats', { headers: { cookie: cookie.split(';')[0]! } })).status).toBe(200);
  });

  test('a wrong token, a forged cookie or a cross-site login post is refused', async () => {
    const server = await startServer({ token: TOKEN });
    const wrong = await login(server, 'not-the-token');
    expect(wrong.status).toBe(200);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    expect(await wrong.text()).toContain('not valid');
    const crossSite = await login(server, TOKEN, 'http://evil.example');
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers.get('set-cookie')).toBeNull();
    const forged = `aq_session=${Math.floor(Date.now() / 1000) + 3600}.${'A'.repeat(43)}`;
    expect((await fetch(server.url + '/v1/stats', { headers: { cookie: forged } })).status).toBe(401);
  });

  test('writes authenticated by the cookie need a same-origin request', async () => {
    const server = await startServer({ token: TOKEN });
    const target = await startTarget();
    const cookie = await session(server);
    const put = (headers: Record<string, string>) =>
      fetch(server.url + '/v1/queues/default', { method: 'PUT', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ paused: true }) });
    expect((await put({})).status).toBe(401);
    expect((await put({ origin: 'http://evil.example' })).status).toBe(401);
    expect((await put({ 'sec-fetch-site': 'cross-site', origin: server.url })).status).toBe(401);
    expect((await put({ 'sec-fetch-site': 'same-site' })).status).toBe(401);
    expect((await put({ origin: server.url })).status).toBe(200);
    expect((await put({ 'sec-fetch-site': 'same-origin' })).status).toBe(200);
    const task = await createTask(server, taskInput(target.url, { delay: 3600 }));
    const cancel = await fetch(`${server.url}/v1/tasks/${task.id}/cancel`, { method: 'POST', headers: { cookie, 'sec-fetch-site': 'same-origin' } });
    expect(cancel.status).toBe(200);
  });

  test('logging out clears the cookie; logout from another site is refused', async () => {
    const server = await startServer({ token: TOKEN });
    const cookie = await session(server);
    const evil = await fetch(server.url + '/logout', { method: 'POST', redirect: 'manual', headers: { cookie, origin: 'http://evil.example' } });
    expect(evil.status).toBe(403);
    const out = await fetch(server.url + '/logout', { method: 'POST', redirect: 'manual', headers: { cookie, origin: server.url } });
    expect(out.status).toBe(303);
    expect(out.headers.get('set-cookie')).toMatch(/^aq_session=; Path=\/; HttpOnly; SameSite=Strict; Max-Age=0$/);
  });

  test('logout ends the session itself: a kept copy of the cookie no longer works; other sessions do', async () => {
    const server = await startServer({ token: TOKEN });
    const cookie = await session(server);
    const other = await session(server);
    expect((await fetch(server.url + '/v1/tasks', { headers: { cookie } })).status).toBe(200);
    const out = await fetch(server.url + '/logout', { method: 'POST', redirect: 'manual', headers: { cookie, origin: server.url } });
    expect(out.status).toBe(303);
    // The browser dropped its cookie; a copy (another tab's, a stolen one) is now refused.
    expect((await fetch(server.url + '/v1/tasks', { headers: { cookie } })).status).toBe(401);
    const page = await fetch(server.url + '/tasks', { redirect: 'manual', headers: { cookie } });
    expect([page.status, page.headers.get('location')]).toEqual([303, '/login?next=%2Ftasks']);
    expect((await fetch(server.url + '/v1/tasks', { headers: { cookie: other } })).status).toBe(200);
    // The ended session is kept in the database, not in this process: a restart keeps it ended.
    await server.close();
    const again = await startServer({ token: TOKEN, db: path.join(server.dir, 'aq.db') });
    expect((await fetch(again.url + '/v1/tasks', { headers: { cookie } })).status).toBe(401);
    expect((await fetch(again.url + '/v1/tasks', { headers: { cookie: other } })).status).toBe(200);
  });

  test('a link followed from another site reloads once so the SameSite=Strict cookie is sent', async () => {
    const server = await startServer({ token: TOKEN });
    const res = await fetch(server.url + '/tasks', { redirect: 'manual', headers: { 'sec-fetch-site': 'cross-site' } });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<meta http-equiv="refresh" content="0"/>');
  });
});

describe('dashboard pages', () => {
  test('pages carry a strict CSP and no inline script or style', async () => {
    const server = await startServer();
    const target = await startTarget();
    const task = await createTask(server, taskInput(target.url, { delay: 3600 }));
    for (const path of ['/', '/tasks', `/tasks/${task.id}`, '/schedules', '/login']) {
      const res = await fetch(server.url + path);
      const html = await res.text();
      expect(res.headers.get('content-security-policy'), path).toContain("script-src 'self'");
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(html.startsWith('<!doctype html>')).toBe(true);
      expect(html).not.toMatch(/<script(?![^>]*\ssrc=)/);
      expect(html).not.toMatch(/\sstyle=|<style|\son[a-z]+=/);
    }
    const js = await fetch(server.url + '/assets/app.js');
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const again = await fetch(server.url + '/assets/app.js', { headers: { 'if-none-match': js.headers.get('etag')! } });
    expect(again.status).toBe(304);
  });

  test('an unknown task id answers a 404 page, and the id box redirects to the task', async () => {
    const server = await startServer();
    const missing = await fetch(server.url + '/tasks/tsk_nope');
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('No task tsk_nope');
    const jump = await fetch(server.url + '/tasks?id=%20tsk_abc%20', { redirect: 'manual' });
    expect(jump.headers.get('location')).toBe('/tasks/tsk_abc');
  });

  test('a server on a non-loopback host without a token shows the warning banner', async () => {
    const open = await startServer({ host: '0.0.0.0' });
    expect(await (await fetch(open.url + '/')).text()).toContain('without a token');
    const local = await startServer();
    expect(await (await fetch(local.url + '/')).text()).not.toContain('without a token');
  });
});

describe('dashboard without the schedules API', () => {
  test('the schedules page shows a friendly empty state when /v1/schedules answers 404', async () => {
    const app = new Hono();
    createDashboard({ tokens: [], host: '127.0.0.1', version: 'test', clock: systemClock, log: silentLogger, store: new SqliteStore({ file: ':memory:' }) }).register(app);
    const res = await app.request('/schedules');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('no schedules API yet');
  });
});

describe('dashboard nodes', () => {
  test('the overview shows the nodes sharing the database, with the leader', async () => {
    const server = await startServer({ nodeName: 'web-7' });
    const html = await (await fetch(server.url + '/')).text();
    expect(html).toContain('id="r-nodes"');
    expect(html).toContain('web-7');
    expect(html).toContain(server.cluster.id);
    expect(html).toMatch(/badge s-completed">leader</);
  });
});
