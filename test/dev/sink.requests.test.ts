// The request sink of `serve --dev` (api.md §15): records what a target receives, answers as
// scripted, verifies signatures, and does not exist without --dev.
import { describe, expect, it } from 'vitest';
import { sign } from '../../src/shared/signing.js';
import { startServer } from '../helpers/server.js';
import { waitForTerminal } from '../helpers/tasks.js';

describe('request sink', () => {
  it('records a task dispatched to it, with headers, body and a verified signature', async () => {
    const server = await startServer({ dev: true });
    const created = await server.api('/v1/tasks', { body: { targetUrl: `${server.url}/_sink/orders?status=201`, payload: { order: 7 }, headers: { 'x-tenant': 'acme' } } });
    expect(created.status).toBe(201);
    const done = await waitForTerminal(server, created.body.id);
    expect(done.status).toBe('completed');
    const { status, body } = await server.api('/v1/sink/orders');
    expect(status).toBe(200);
    expect(body.requests).toHaveLength(1);
    const r = body.requests[0];
    expect(r).toMatchObject({ sink: 'orders', method: 'POST', path: '', query: { status: '201' }, json: { order: 7 }, body: '{"order":7}', signatureVerified: true, answer: { status: 201, delayMs: 0 } });
    expect(r.headers['aq-task-id']).toBe(created.body.id);
    expect(r.headers['x-tenant']).toBe('acme');
    const list = await server.api('/v1/sink');
    expect(list.body.sinks).toEqual([{ name: 'orders', count: 1, lastAt: r.receivedAt }]);
  });

  it('answers as scripted by ?status=&body=, keeps sub-paths and tells a forged signature', async () => {
    const server = await startServer({ dev: true });
    const res = await fetch(`${server.url}/_sink/hooks/deep/path?status=503&body=busy`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain', 'webhook-id': 'x', 'webhook-timestamp': String(Math.floor(Date.now() / 1000)), 'webhook-signature': sign('whsec_' + Buffer.alloc(24, 1).toString('base64'), 'x', Math.floor(Date.now() / 1000), 'hello') },
      body: 'hello',
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('busy');
    const { body } = await server.api('/v1/sink/hooks');
    expect(body.requests[0]).toMatchObject({ method: 'PUT', path: '/deep/path', body: 'hello', json: null, signatureVerified: false, answer: { status: 503 } });
    const unsigned = await fetch(`${server.url}/_sink/hooks`);
    expect(await unsigned.json()).toEqual({});
    const after = await server.api(`/v1/sink/hooks?after=${body.requests[0].id}`);
    expect(after.body.requests.map((r: { method: string; signatureVerified: unknown }) => [r.method, r.signatureVerified])).toEqual([['GET', null]]);
    expect((await server.api('/v1/sink/hooks', { method: 'DELETE' })).status).toBe(204);
    expect((await server.api('/v1/sink/hooks')).body.requests).toEqual([]);
  });

  it('keeps a body nested too deep to answer as text only, and still lists it', async () => {
    const server = await startServer({ dev: true });
    const deep = '['.repeat(20_000) + ']'.repeat(20_000);
    expect((await fetch(`${server.url}/_sink/deep`, { method: 'POST', body: deep, headers: { 'content-type': 'application/json' } })).status).toBe(200);
    const r = await server.api('/v1/sink/deep');
    expect(r.status).toBe(200);
    expect(r.body.requests).toMatchObject([{ body: deep, json: null }]);
  });

  it('refuses a bad script or name with the documented 400, and stays bounded', async () => {
    const server = await startServer({ dev: true, maxBody: 1024 });
    for (const q of ['status=99', 'status=abc', 'status=700', 'delay=-1', 'delay=1e3', 'delay=301', `body=${'x'.repeat(8193)}`]) {
      const res = await fetch(`${server.url}/_sink/bad?${q}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
      expect(res.status, q.slice(0, 20)).toBe(400);
      expect((await res.json()).error.code).toBe('invalid_request');
    }
    const big = await fetch(`${server.url}/_sink/bad`, { method: 'POST', body: 'x'.repeat(2048) });
    expect(big.status).toBe(413);
    expect((await fetch(`${server.url}/_sink/${'n'.repeat(65)}`)).status).toBe(400);
    expect((await server.api('/v1/sink/bad%2Fx')).status).toBe(400);
    expect((await server.api('/v1/sink/bad?after=abc')).status).toBe(400);
    for (let i = 0; i < 520; i++) server.sink!.record({ sink: 'many', method: 'GET', path: '', query: {}, headers: {}, body: '', truncated: false, answer: { status: 200, delayMs: 0 } }, Date.now());
    expect(server.sink!.list('many')).toHaveLength(500);
    expect((await server.api('/healthz')).status).toBe(200);
  });

  it('does not exist without --dev', async () => {
    const server = await startServer();
    expect((await fetch(`${server.url}/_sink/x`, { method: 'POST' })).status).toBe(404);
    expect((await server.api('/v1/sink/x')).status).toBe(404);
    expect((await server.api('/v1/clock')).status).toBe(404);
    expect((await server.api('/v1/clock/advance', { body: { seconds: 1 } })).status).toBe(404);
  });

  it('refuses --dev on a non-loopback host without a token, and --clock virtual without --dev', async () => {
    await expect(startServer({ dev: true, host: '0.0.0.0' })).rejects.toThrow(/--dev on 0\.0\.0\.0 needs a token/);
    await expect(startServer({ clock: 'virtual' })).rejects.toThrow(/needs --dev/);
    const withToken = await startServer({ dev: true, host: '0.0.0.0', token: 'secret-token-1' });
    expect((await withToken.api('/v1/sink/x')).status).toBe(200);
    expect((await fetch(`${withToken.url}/v1/sink/x`)).status).toBe(401);
  });
});

describe('sink page of the dashboard', () => {
  it('lists the sinks and shows a sink’s requests with their signature check', async () => {
    const server = await startServer({ dev: true });
    await fetch(`${server.url}/_sink/pages?status=202`, { method: 'POST', body: '{"hello":"world"}', headers: { 'content-type': 'application/json' } });
    const index = await fetch(`${server.url}/sink`);
    expect(index.status).toBe(200);
    const html = await index.text();
    expect(html).toContain('href="/sink/pages"');
    expect(html).toContain('pages (1)');
    const page = await (await fetch(`${server.url}/sink/pages`)).text();
    expect(page).toContain('data-events="/v1/sink/pages/events"');
    expect(page).toContain('unsigned');
    expect(page).toContain('&quot;hello&quot;: &quot;world&quot;');
    const off = await startServer();
    expect(await (await fetch(`${off.url}/sink`)).text()).toContain('only with serve --dev');
  });

  it('streams a sink’s new requests as they arrive', async () => {
    const server = await startServer({ dev: true });
    const ctl = new AbortController();
    const res = await fetch(`${server.url}/v1/sink/live/events`, { signal: ctl.signal });
    const reader = res.body!.getReader();
    const read = async (until: string) => {
      let text = '';
      while (!text.includes(until)) text += new TextDecoder().decode((await reader.read()).value);
      return text;
    };
    expect(await read('event: ready')).toContain('event: ready');
    await fetch(`${server.url}/_sink/live`, { method: 'DELETE' });
    expect(await read('event: sink')).toMatch(/"method":"DELETE"/);
    ctl.abort();
  });
});

describe('sink stream with a client that stopped reading', () => {
  it('drops it past its backlog bound and frees its slot', async () => {
    const net = await import('node:net');
    const server = await startServer({ dev: true, maxSseClients: 1 });
    const { port } = new URL(server.url);
    const sock = await new Promise<import('node:net').Socket>((resolve, reject) => {
      const s = net.connect(Number(port), '127.0.0.1', () => s.write('GET /v1/sink/slow/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
      s.once('data', (d) => {
        expect(d.toString('latin1')).toMatch(/^HTTP\/1\.1 200/);
        s.pause();
        resolve(s);
      });
      s.on('error', () => undefined);
      s.on('close', () => undefined);
      setTimeout(() => reject(new Error('no answer')), 10_000).unref();
    });
    const slot = async () => {
      const ac = new AbortController();
      const r = await fetch(`${server.url}/v1/sink/slow/events`, { signal: ac.signal });
      ac.abort();
      await r.body?.cancel().catch(() => undefined);
      return r.status;
    };
    expect(await slot()).toBe(503);
    // Rounds of events until the stalled client's socket buffers are full and its backlog passes the bound (at most 400 rounds).
    let freed = false;
    for (let round = 0; round < 400 && !freed; round++) {
      for (let i = 0; i < 1000; i++) server.sink!.record({ sink: 'slow', method: 'POST', path: '/', query: {}, headers: {}, body: '', truncated: false, answer: { status: 200, delayMs: 0 } }, Date.now());
      await new Promise((r) => setImmediate(r));
      freed = (await slot()) === 200;
    }
    expect(freed).toBe(true);
    sock.destroy();
  });
});
