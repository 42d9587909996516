// The SDK keeps its connections to AsyncQueue open: sequential calls, and clients made per
// request, reuse one connection (counted with undici's diagnostics channel, which Node's fetch
// publishes); a dispatcher passed in is used.
import dc from 'node:diagnostics_channel';
import { Agent } from 'undici';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AsyncQueue } from '../../src/index.js';
import { startServer } from '../helpers/server.js';

/** Counts new connections opened to `origin` from now on. */
function countConnections(origin: string) {
  const seen = { n: 0 };
  const onConnect = (m: unknown) => {
    const o = (m as { connectParams?: { origin?: string; host?: string; protocol?: string } }).connectParams;
    if (o && `${o.protocol}//${o.host}` === origin) seen.n++;
  };
  dc.subscribe('undici:client:connected', onConnect);
  onTestFinished(() => dc.unsubscribe('undici:client:connected', onConnect));
  return seen;
}

describe('connections', () => {
  it('sequential calls of one client, and of a client made per call, reuse one kept-alive connection', async () => {
    const server = await startServer();
    const aq = new AsyncQueue({ url: server.url });
    // Warm: undici may open a second connection for the call right after the very first one.
    await aq.health();
    await aq.health();
    const opened = countConnections(server.url);
    for (let i = 0; i < 10; i++) await aq.tasks.create({ targetUrl: 'http://127.0.0.1:9/x', delay: 3600 });
    for (let i = 0; i < 5; i++) await new AsyncQueue({ url: server.url }).tasks.list({ limit: 1 });
    expect(opened.n).toBe(0);
  });

  it('requests go through a dispatcher passed in', async () => {
    const server = await startServer();
    const agent = new Agent({ connections: 2, keepAliveTimeout: 60_000 });
    onTestFinished(() => agent.close());
    let dispatched = 0;
    const counting = new Proxy(agent, { get: (t, k) => (k === 'dispatch' ? (...a: unknown[]) => (dispatched++, (t.dispatch as (...x: unknown[]) => boolean).apply(t, a)) : Reflect.get(t, k)) });
    const aq = new AsyncQueue({ url: server.url, dispatcher: counting });
    await Promise.all(Array.from({ length: 6 }, () => aq.tasks.create({ targetUrl: 'http://127.0.0.1:9/x', delay: 3600 })));
    expect(dispatched).toBe(6);
  });
});
