// api.md §12 hosts at real targets, on the manual server clock (the breaker's 30 s never pass in
// wall-clock time): the circuit opens after --breaker-failures failures in a row, healthy origins
// go on meanwhile, tasks of the open origin wait without spending retries and say why, one probe
// closes it; the adaptive limit falls on 429 and climbs back; a dead webhook receiver holds at
// most half the webhook slots.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { HOST_WAIT_MS } from '../../src/dispatch/hosts.js';
import { FIRST_OPEN_MS } from '../../src/dispatch/host-policy.js';
import { createLogger } from '../../src/log.js';
import type { Task } from '../../src/shared/types.js';
import { countCalls, manualClock, type ManualClock } from '../helpers/clock.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput, waitForTask, waitForTerminal } from '../helpers/tasks.js';

/** A target that resets every connection until `heal()`, then answers 200. */
async function flakyTarget() {
  let healthy = false;
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    if (!healthy) return req.socket.destroy();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, heal: () => void (healthy = true), requests: () => requests };
}

async function create(server: TestServer, body: Record<string, unknown>): Promise<Task> {
  const r = await server.api('/v1/tasks', { body });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body;
}

const hostOf = async (server: TestServer, origin: string) => ((await server.api('/v1/hosts')).body.hosts as { origin: string }[]).find((h) => h.origin === origin) as any;

/** Moves the clock by `ms` and wakes the scheduler, one step per scheduler pass (its queueLimits read), until `done` holds. */
async function drive(server: TestServer, clock: ManualClock, ms: number, done: () => Promise<boolean>) {
  const claims = countCalls(server.store, 'queueLimits');
  while (!(await done())) {
    const next = claims.next(1);
    clock.advance(ms);
    server.scheduler.wake();
    await next;
  }
}

describe('hosts (api.md §12)', () => {
  it('opens after 3 failures in a row, spends no retries while open, lets healthy origins run, and one probe closes it', async () => {
    const clock = manualClock();
    const T = clock.now();
    const lines: { msg: string; origin?: string }[] = [];
    const server = await startServer({ clock, breakerFailures: 3, logger: createLogger('info', (l) => lines.push(JSON.parse(l))) });
    const sick = await flakyTarget();
    const healthy = await startTarget();
    const first = await Promise.all([1, 2, 3].map(() => create(server, taskInput(sick.url, { retries: 5 }))));
    for (const t of first) await waitForTask(server, t.id, (x) => x.status === 'pending' && x.attempts === 1);
    const open = await hostOf(server, sick.url);
    expect(open).toMatchObject({ origin: sick.url, state: 'open', consecutiveFailures: 3, openUntil: new Date(T + FIRST_OPEN_MS).toISOString() });
    expect(open.recentFailures).toHaveLength(3);
    expect(lines.filter((l) => l.msg === 'host circuit opened' && l.origin === sick.url)).toHaveLength(1);

    // While open: a new task of the sick origin is given back unstarted, due at the reopening.
    const later = await create(server, taskInput(sick.url, { retries: 5 }));
    const waiting = await waitForTask(server, later.id, (x) => x.waiting?.reason === 'host_circuit_open');
    expect(waiting).toMatchObject({ status: 'pending', attempts: 0, waiting: { until: new Date(T + FIRST_OPEN_MS).toISOString() } });
    expect(sick.requests()).toBe(3);
    // ... and a healthy origin is not held up.
    expect((await waitForTerminal(server, (await create(server, taskInput(healthy.url))).id)).status).toBe('completed');
    // The first three come due for their retry while the circuit is open: given back, no attempt spent.
    clock.advance(1000);
    server.scheduler.wake();
    for (const t of first) {
      const x = await waitForTask(server, t.id, (y) => y.status === 'pending' && Date.parse(y.runAt) === T + FIRST_OPEN_MS);
      expect(x.attempts).toBe(1);
      expect(x.waiting?.reason).toBe('host_circuit_open');
    }
    expect(sick.requests()).toBe(3);

    // At the reopening one probe goes; it succeeds and closes the circuit; the rest follow.
    sick.heal();
    clock.set(T + FIRST_OPEN_MS);
    await drive(server, clock, HOST_WAIT_MS, async () => {
      const ts = await Promise.all([...first, later].map(async (t) => (await server.api(`/v1/tasks/${t.id}`)).body as Task));
      return ts.every((t) => t.status === 'completed');
    });
    expect((await server.api(`/v1/tasks/${later.id}`)).body.attempts).toBe(1);
    for (const t of first) expect((await server.api(`/v1/tasks/${t.id}`)).body.attempts).toBe(2);
    expect(await hostOf(server, sick.url)).toMatchObject({ state: 'closed', consecutiveFailures: 0, openUntil: null });
    expect(lines.some((l) => l.msg === 'host circuit half open: probing')).toBe(true);
    expect(lines.filter((l) => l.msg === 'host circuit closed' && l.origin === sick.url)).toHaveLength(1);
    expect(sick.requests()).toBe(7);
    // /metrics counts attempts, not claims: the give-backs are neither dispatches nor creates.
    const text = await (await fetch(server.url + '/metrics')).text();
    const value = (name: string) => Number(new RegExp(`^${name}\\{queue="default"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    expect(value('asyncqueue_tasks_created_total')).toBe(5);
    expect(value('asyncqueue_tasks_dispatched_total')).toBe(8);
    expect(value('asyncqueue_tasks_retried_total')).toBe(3);
    expect(value('asyncqueue_tasks_given_back_total')).toBeGreaterThanOrEqual(4);
  });

  it('429s halve the origin limit (from --host-concurrency 4) down to 1; 50 successes add one back; the target never sees more than the limit', async () => {
    const clock = manualClock();
    const server = await startServer({ clock, breakerFailures: 0, hostConcurrency: 4 });
    let throttle = true;
    const held: (() => void)[] = [];
    let inFlight = 0;
    const seen: number[] = [];
    const target = await startTarget(
      () =>
        new Promise((resolve) => {
          inFlight++;
          seen.push(inFlight);
          const answer = () => (inFlight--, resolve(throttle ? { status: 429 } : { status: 200 }));
          if (!throttle) return answer();
          held.push(answer);
          if (held.length === 4) for (const a of held.splice(0)) a();
        }),
    );
    const throttled = await Promise.all([1, 2, 3, 4].map(() => create(server, taskInput(target.url, { retries: 0 }))));
    for (const t of throttled) expect((await waitForTerminal(server, t.id)).status).toBe('failed');
    expect(await hostOf(server, target.url)).toMatchObject({ limit: 1, state: 'closed' });
    throttle = false;
    seen.length = 0;
    const r = await server.api('/v1/tasks/batch', { body: { tasks: Array.from({ length: 50 }, () => taskInput(target.url)) } });
    expect(r.status).toBe(201);
    await drive(server, clock, HOST_WAIT_MS, async () => (await server.api('/v1/stats')).body.counts.completed === 50);
    expect(seen).toHaveLength(50);
    expect(Math.max(...seen)).toBe(1);
    expect(await hostOf(server, target.url)).toMatchObject({ limit: 2 });
  });

  it('a 429 with Retry-After: 999999 delays the origin by at most 10 minutes; nothing fails, nothing is lost', async () => {
    const clock = manualClock();
    const T = clock.now();
    const server = await startServer({ clock, breakerFailures: 0 });
    const target = await startTarget(() => ({ status: 429, headers: { 'retry-after': '999999' } }));
    const t = await create(server, taskInput(target.url, { retries: 3 }));
    await waitForTask(server, t.id, (x) => x.status === 'pending' && x.attempts === 1);
    const h = await hostOf(server, target.url);
    expect(Date.parse(h.notBefore)).toBe(T + 600_000);
    const other = await create(server, taskInput(target.url, { retries: 3 }));
    const back = await waitForTask(server, other.id, (x) => x.status === 'pending' && Date.parse(x.runAt) >= T + 600_000);
    expect(back.attempts).toBe(0);
    expect((await server.api('/v1/hosts/reset', { body: { origin: target.url + '/some/path' } })).body).toMatchObject({ notBefore: null, limit: null });
  });

  it('two hanging requests open the circuit when they time out, while a healthy origin completes', async () => {
    const clock = manualClock();
    const server = await startServer({ clock, breakerFailures: 2 });
    const hang = await startTarget(() => ({ hang: true }));
    const healthy = await startTarget();
    const stuck = await Promise.all([1, 2].map(() => create(server, taskInput(hang.url, { timeout: 5, retries: 1 }))));
    await hang.waitForRequests(2);
    expect((await waitForTerminal(server, (await create(server, taskInput(healthy.url))).id)).status).toBe('completed');
    clock.advance(5000);
    for (const t of stuck) await waitForTask(server, t.id, (x) => x.status === 'pending' && x.attempts === 1);
    expect(await hostOf(server, hang.url)).toMatchObject({ state: 'open', consecutiveFailures: 2 });
  });

  it('a dead webhook receiver holds at most half the webhook slots: another receiver gets its delivery', async () => {
    const server = await startServer({ webhookConcurrency: 2 });
    const target = await startTarget();
    const dead = await startTarget(() => ({ hang: true }));
    const alive = await startTarget();
    for (let i = 0; i < 4; i++) await create(server, taskInput(target.url, { webhookUrl: dead.url + '/hook', timeout: 60 }));
    await dead.waitForRequests(1);
    const t = await create(server, taskInput(target.url, { webhookUrl: alive.url + '/hook' }));
    await alive.waitForRequests(1);
    await waitForTask(server, t.id, (x) => x.webhook?.status === 'delivered');
    expect(dead.requests).toHaveLength(1);
  });

  it('GET /v1/hosts and POST /v1/hosts/reset: bad and unknown origins are 400 and 404, never 5xx', async () => {
    const server = await startServer();
    expect((await server.api('/v1/hosts')).body).toEqual({ hosts: [] });
    for (const body of [{}, { origin: '' }, { origin: 'not a url' }, { origin: 'ftp://x' }, { origin: 42 }, { origin: 'http://' + 'a'.repeat(3000) }, { origin: 'http://x', extra: 1 }]) {
      const r = await server.api('/v1/hosts/reset', { body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
    }
    expect((await server.api('/v1/hosts/reset', { raw: '{', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    const unknown = await server.api('/v1/hosts/reset', { body: { origin: 'https://never.example.com' } });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('not_found');
  });
});
