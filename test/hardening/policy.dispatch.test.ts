// --block-private-targets end to end: refused at create time when the URL is a literal private
// address, refused at connect time (type "blocked", target never reached) when a name resolves
// to one, and --allow-hosts lets chosen hosts through. Only 127.0.0.1 is ever connected to.
import type dns from 'node:dns';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { createAgent, send } from '../../src/dispatch/deliver.js';
import { policyConnector } from '../../src/dispatch/policy.js';
import { countCalls } from '../helpers/clock.js';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { createTask, taskInput, waitForTerminal } from '../helpers/tasks.js';
import { tempDir } from '../helpers/temp.js';

/** Resolves every name to 127.0.0.1, as a rebinding DNS server would at connect time. */
const toLoopback = ((_h: string, _o: unknown, cb: (e: null, a: dns.LookupAddress[]) => void) => cb(null, [{ address: '127.0.0.1', family: 4 }])) as unknown as typeof dns.lookup;

function attempt(agentOpts: Parameters<typeof policyConnector>[0], url: string) {
  const agent = createAgent({ connections: 4, connect: policyConnector(agentOpts) });
  onTestFinished(() => agent.close());
  return send(agent, { url, method: 'POST', headers: {}, body: '{}', signal: new AbortController().signal, timeoutMs: 2000, maxResultBytes: 1024, keepBody: true });
}

describe('outbound policy at connect time', () => {
  it('a name that resolves to loopback is refused as "blocked" before any connection', async () => {
    const target = await startTarget();
    const port = new URL(target.url).port;
    const out = await attempt({ blockPrivate: true, allowHosts: [], lookup: toLoopback }, `http://rebind.test:${port}/x`);
    expect(out).toMatchObject({
      kind: 'error',
      error: { type: 'blocked', message: `rebind.test resolves to 127.0.0.1, a loopback address; refused by --block-private-targets: POST http://rebind.test:${port}/x` },
    });
    expect(target.requests).toHaveLength(0);
  });

  it('a literal private address is refused without connecting; an allowed host goes through', async () => {
    const target = await startTarget();
    const blocked = await attempt({ blockPrivate: true, allowHosts: [] }, target.url + '/a');
    expect(blocked).toMatchObject({ kind: 'error', error: { type: 'blocked' } });
    expect((await attempt({ blockPrivate: true, allowHosts: ['rebind.test'], lookup: toLoopback }, target.url.replace('127.0.0.1', 'rebind.test') + '/b'))).toMatchObject({ kind: 'response', status: 200 });
    expect((await attempt({ blockPrivate: true, allowHosts: ['127.0.0.1'] }, target.url + '/c'))).toMatchObject({ kind: 'response', status: 200 });
    expect(target.requests.map((r) => r.path)).toEqual(['/b', '/c']);
  });

  it('with the block off (the default) loopback targets work as before', async () => {
    const target = await startTarget();
    expect(policyConnector({ blockPrivate: false, allowHosts: [] })).toBeUndefined();
    expect(await attempt({ blockPrivate: false, allowHosts: [] }, target.url + '/d')).toMatchObject({ kind: 'response', status: 200 });
  });
});

describe('outbound policy in the server', () => {
  it('refuses a literal private target or webhook URL at create time with 400 and stores nothing', async () => {
    const s = await startServer({ blockPrivateTargets: true });
    for (const [body, field] of [
      [{ targetUrl: 'http://127.0.0.1:9/x' }, 'targetUrl'],
      [{ targetUrl: 'http://169.254.169.254/latest/meta-data/' }, 'targetUrl'],
      [{ targetUrl: 'http://[::ffff:10.0.0.1]/' }, 'targetUrl'],
      [{ targetUrl: 'http://localhost:8080/' }, 'targetUrl'],
      [{ targetUrl: 'https://example.com/', webhookUrl: 'http://[fd00:ec2::254]/hook' }, 'webhookUrl'],
    ] as const) {
      const r = await s.api('/v1/tasks', { body });
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.error).toMatchObject({ code: 'invalid_request', details: [{ path: [field] }] });
      expect(r.body.error.message).toMatch(/refused by --block-private-targets/);
    }
    const batch = await s.api('/v1/tasks/batch', { body: { tasks: [{ targetUrl: 'https://example.com/' }, { targetUrl: 'http://10.0.0.1/' }] } });
    expect(batch.body.error.details[0].path).toEqual(['tasks', 1, 'targetUrl']);
    expect((await s.api('/v1/stats')).body.counts.pending).toBe(0);
  });

  it('a task stored before the block was turned on fails its attempt as "blocked", once, and its webhook too', async () => {
    const dir = tempDir();
    const db = path.join(dir, 'aq.db');
    const target = await startTarget();
    const first = await startServer({ db });
    await first.api('/v1/queues/default', { method: 'PUT', body: { paused: true } });
    const task = await createTask(first, taskInput(target.url + '/private', { retries: 5, webhookUrl: target.url + '/hook', webhookRetries: 5 }));
    await first.close(0);
    const s = await startServer({ db, blockPrivateTargets: true });
    const settled = countCalls(s.store, 'finishDeliveries').next(1, (rs) => rs.some((d) => d.id === task.id && d.next.status !== 'pending'));
    await s.api('/v1/queues/default', { method: 'PUT', body: { paused: false } });
    const t = await waitForTerminal(s, task.id);
    expect(t).toMatchObject({ status: 'failed', attempts: 1, error: { type: 'blocked' } });
    expect(t.error!.message).toMatch(/127\.0\.0\.1 is a loopback address; refused by --block-private-targets: POST http:\/\/127\.0\.0\.1:\d+\/private/);
    await settled;
    const hooked = (await s.api(`/v1/tasks/${task.id}`)).body.webhook;
    expect(hooked).toMatchObject({ status: 'failed', attempts: 1, error: { type: 'blocked' } });
    expect(target.requests).toHaveLength(0);
  });

  it('--allow-hosts lets a private host through while the block is on', async () => {
    const target = await startTarget();
    const s = await startServer({ blockPrivateTargets: true, allowHosts: '127.0.0.1' });
    const t = await waitForTerminal(s, (await createTask(s, taskInput(target.url + '/ok'))).id);
    expect(t.status).toBe('completed');
  });
});
