// aq.receive / aq.receiveWebhook and parseTask / parseWebhook in the frameworks users write
// their worker and webhook in: Hono (c.req), a Next.js-style route handler (a web Request),
// Express (express.raw) and node:http. A real server dispatches to them.
import { getRequestListener } from '@hono/node-server';
import express from 'express';
import { Hono } from 'hono';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AsyncQueue, parseTask, parseWebhook, ReceiveError, type ReceivedTask, type ReceivedWebhook } from '../../src/index.js';
import { sign } from '../../src/shared/signing.js';
import { startServer } from '../helpers/server.js';
import { taskInput } from '../helpers/tasks.js';

interface ReportJob { jobId: string; fail?: boolean }
interface Report { jobId: string; reportUrl: string }

/** What each app saw, and a promise per webhook. */
function recorder() {
  const tasks: ReceivedTask<ReportJob>[] = [];
  const hooks: ReceivedWebhook<Report, ReportJob>[] = [];
  const waiters: (() => void)[] = [];
  return {
    tasks, hooks,
    hook(h: ReceivedWebhook<Report, ReportJob>) {
      hooks.push(h);
      waiters.splice(0).forEach((w) => w());
    },
    async waitForHooks(n: number) {
      while (hooks.length < n) await new Promise<void>((r) => waiters.push(r));
      return hooks;
    },
  };
}

async function listen(listener: http.RequestListener): Promise<string> {
  const server = http.createServer(listener);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The worker's answer: a report, or a 422 that fails the task at once. */
function work(t: ReceivedTask<ReportJob>): { status: number; body: unknown; headers: Record<string, string> } {
  if (t.payload.fail) return { status: 422, body: { error: 'bad range' }, headers: { 'AQ-No-Retry': 'true' } };
  return { status: 200, body: { jobId: t.payload.jobId, reportUrl: `https://r.example/${t.payload.jobId}.pdf` }, headers: {} };
}

type App = (aq: AsyncQueue, rec: ReturnType<typeof recorder>) => http.RequestListener;

const apps: Record<string, App> = {
  hono: (aq, rec) => {
    const app = new Hono();
    app.post('/run', async (c) => {
      const t = await aq.receive<ReportJob>(c.req);
      rec.tasks.push(t);
      const r = work(t);
      return c.json(r.body as object, r.status as 200, r.headers);
    });
    app.post('/done', async (c) => {
      rec.hook(await aq.receiveWebhook<Report, ReportJob>(c.req));
      return c.json({ received: true });
    });
    app.onError((err, c) => c.json({ error: err.message }, err instanceof ReceiveError ? err.status : 500));
    return getRequestListener(app.fetch);
  },
  // A Next.js App Router handler is `export async function POST(request: Request)`.
  'next.js route handler': (aq, rec) => {
    const routes: Record<string, (request: Request) => Promise<Response>> = {
      '/run': async (request) => {
        const t = await aq.receive<ReportJob>(request);
        rec.tasks.push(t);
        const r = work(t);
        return Response.json(r.body, { status: r.status, headers: r.headers });
      },
      '/done': async (request) => {
        rec.hook(await aq.receiveWebhook<Report, ReportJob>(request));
        return Response.json({ received: true });
      },
    };
    return getRequestListener(async (request) => {
      try {
        return await routes[new URL(request.url).pathname]!(request);
      } catch (err) {
        return Response.json({ error: (err as Error).message }, { status: err instanceof ReceiveError ? err.status : 500 });
      }
    });
  },
  express: (aq, rec) => {
    const app = express();
    app.post('/run', express.raw({ type: 'application/json' }), async (req, res) => {
      const t = await aq.receive<ReportJob>(req);
      rec.tasks.push(t);
      const r = work(t);
      res.status(r.status).set(r.headers).json(r.body);
    });
    app.post('/done', express.raw({ type: 'application/json' }), async (req, res) => {
      rec.hook(await aq.receiveWebhook<Report, ReportJob>(req));
      res.json({ received: true });
    });
    app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(err instanceof ReceiveError ? err.status : 500).json({ error: err.message });
    });
    return app as unknown as http.RequestListener;
  },
  'node:http': (aq, rec) => async (req, res) => {
    try {
      if (req.url === '/run') {
        const t = await aq.receive<ReportJob>(req);
        rec.tasks.push(t);
        const r = work(t);
        res.writeHead(r.status, { 'content-type': 'application/json', ...r.headers }).end(JSON.stringify(r.body));
      } else {
        rec.hook(await aq.receiveWebhook<Report, ReportJob>(req));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}');
      }
    } catch (err) {
      res.writeHead(err instanceof ReceiveError ? err.status : 500).end(JSON.stringify({ error: (err as Error).message }));
    }
  },
};

describe.each(Object.keys(apps))('receiving with %s', (name) => {
  it('the worker gets the typed payload, the webhook the typed result, and result is null on failed', async () => {
    const server = await startServer();
    // The receiving app's client: no secret configured, so it asks the server once.
    const aq = new AsyncQueue({ url: server.url });
    const rec = recorder();
    const url = await listen(apps[name]!(aq, rec));
    const ok = await aq.tasks.create<ReportJob>(taskInput(`${url}/run`, { payload: { jobId: 'j1' }, webhookUrl: `${url}/done` }));
    const bad = await aq.tasks.create<ReportJob>(taskInput(`${url}/run`, { payload: { jobId: 'j2', fail: true }, webhookUrl: `${url}/done` }));
    const hooks = await rec.waitForHooks(2);
    const byJob = Object.fromEntries(hooks.map((h) => [h.payload.jobId, h]));
    const done = byJob.j1!;
    expect(done).toMatchObject({ id: ok.id, status: 'completed', webhookId: `${ok.id}.1`, deliveryAttempt: 1, error: null });
    if (done.status !== 'completed') throw new Error('expected completed');
    expect(done.result.reportUrl).toBe('https://r.example/j1.pdf');
    const failed = byJob.j2!;
    expect(failed).toMatchObject({ id: bad.id, status: 'failed', result: null, webhookId: `${bad.id}.1`, error: { type: 'http', status: 422 } });
    expect(rec.tasks.map((t) => [t.payload.jobId, t.taskId === t.webhookId, t.attempt, t.queue]).sort()).toEqual([['j1', true, 1, 'default'], ['j2', true, 1, 'default']]);
    // A forged request is refused with 401 before any handler code sees a payload.
    const body = JSON.stringify({ jobId: 'evil' });
    const ts = Math.floor(Date.now() / 1000);
    const forged = await fetch(`${url}/run`, {
      method: 'POST', body,
      headers: { 'content-type': 'application/json', 'webhook-id': 'tsk_x', 'webhook-timestamp': String(ts), 'webhook-signature': sign('whsec_' + Buffer.alloc(24, 1).toString('base64'), 'tsk_x', ts, body) },
    });
    expect(forged.status).toBe(401);
    expect(rec.tasks).toHaveLength(2);
  });
});

describe('receive errors', () => {
  it('says what to do when express.json() parsed the body first', async () => {
    const app = express();
    let caught: unknown;
    app.post('/hook', express.json(), async (req, res) => {
      caught = await parseWebhook(req, 'whsec_' + Buffer.alloc(24, 1).toString('base64')).catch((e: unknown) => e);
      res.end();
    });
    const url = await listen(app as unknown as http.RequestListener);
    await fetch(`${url}/hook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"id":"tsk_1"}' });
    expect(caught).toBeInstanceOf(ReceiveError);
    expect(caught).toMatchObject({ status: 400, code: 'body_consumed', message: expect.stringContaining('express.raw({ type: "application/json" })') });
  });

  it('a signed body that is not an outcome is a 400, an unsigned one a 401', async () => {
    const secret = 'whsec_' + Buffer.alloc(24, 7).toString('base64');
    const ts = Math.floor(Date.now() / 1000);
    const req = (body: string, signed = true) =>
      new Request('http://x/', { method: 'POST', body, headers: signed ? { 'webhook-id': 'i', 'webhook-timestamp': String(ts), 'webhook-signature': sign(secret, 'i', ts, body) } : {} });
    await expect(parseWebhook(req('{"hello":1}'), secret)).rejects.toMatchObject({ status: 400, code: 'invalid_body' });
    await expect(parseWebhook(req('not json'), secret)).rejects.toMatchObject({ status: 400, code: 'invalid_body' });
    await expect(parseTask(req('{}', false), secret)).rejects.toMatchObject({ status: 401, code: 'invalid_signature' });
    expect(await parseTask(req(''), secret)).toMatchObject({ payload: null, webhookId: 'i' });
  });
});
