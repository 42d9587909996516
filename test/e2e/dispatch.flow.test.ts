// The dispatcher end to end against real target and webhook servers on 127.0.0.1: the §5
// request and webhook, retries, exhaustion, timeouts, AQ-No-Retry, Retry-After, delay/runAt.
// Times are checked on a clock the test moves (manualClock), so they are exact numbers: "not
// before its time" means scheduler passes ran at the millisecond before and claimed nothing.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it, onTestFinished } from 'vitest';
import { generateSecret } from '../../src/shared/signing.js';
import type { Attempt } from '../../src/shared/types.js';
import { packageVersion } from '../../src/version.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { countCalls, manualClock } from '../helpers/clock.js';
import { startTarget } from '../helpers/target.js';
import { createTask, taskInput, waitForTask, waitForTerminal } from '../helpers/tasks.js';

async function attemptsOf(server: TestServer, id: string): Promise<Attempt[]> {
  const r = await server.api(`/v1/tasks/${id}/attempts`);
  expect(r.status).toBe(200);
  return r.body.attempts;
}
const ms = (iso: string) => Date.parse(iso);

describe('dispatch', () => {
  it('delivers the payload with the §5 headers, then the §5 webhook, and GET shows completed', async () => {
    const secret = generateSecret();
    const clock = manualClock();
    const server = await startServer({ signingSecret: secret, clock });
    const target = await startTarget(() => ({ status: 200, body: { done: 42 } }));
    const hook = await startTarget();
    const task = await createTask(server, taskInput(target.url + '/work?x=1', {
      headers: { 'X-Custom': 'yes' }, queue: 'emails', webhookUrl: hook.url + '/hook', payload: { to: 'a@b.c', n: [1, 2] },
    }));
    expect(task.status).toBe('pending');

    const [req] = await target.waitForRequests(1);
    expect(req!.method).toBe('POST');
    expect(req!.path).toBe('/work?x=1');
    expect(req!.json).toEqual({ to: 'a@b.c', n: [1, 2] });
    expect(req!.headers).toMatchObject({
      'content-type': 'application/json', 'user-agent': `AsyncQueue/${packageVersion()}`, 'x-custom': 'yes',
      'aq-task-id': task.id, 'aq-attempt': '1', 'aq-queue': 'emails', 'webhook-id': task.id,
    });
    expect(Number(req!.headers['webhook-timestamp'])).toBe(clock.now() / 1000);
    expect(new Webhook(secret).verify(req!.body, req!.headers as Record<string, string>)).toEqual({ to: 'a@b.c', n: [1, 2] });
    expect(() => new Webhook(generateSecret()).verify(req!.body, req!.headers as Record<string, string>)).toThrow();

    const [h] = await hook.waitForRequests(1);
    expect(h!.method).toBe('POST');
    expect(h!.path).toBe('/hook');
    expect(h!.headers['webhook-id']).toBe(`${task.id}.1`); // api.md §16: the outcome's own id
    expect(h!.headers['aq-task-id']).toBe(task.id);
    expect(h!.headers['content-type']).toBe('application/json');
    const body = new Webhook(secret).verify(h!.body, h!.headers as Record<string, string>) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(['attempts', 'completedAt', 'error', 'id', 'payload', 'queue', 'result', 'status']);
    expect(body).toMatchObject({ id: task.id, status: 'completed', queue: 'emails', payload: { to: 'a@b.c', n: [1, 2] }, result: { done: 42 }, error: null, attempts: 1 });

    const done = await waitForTask(server, task.id, (t) => t.webhook?.status === 'delivered');
    expect(done).toMatchObject({ status: 'completed', attempts: 1, result: { done: 42 }, error: null, webhook: { status: 'delivered', attempts: 1, error: null } });
    expect(body.completedAt).toBe(done.completedAt);
    const [a] = await attemptsOf(server, task.id);
    expect(a).toMatchObject({ n: 1, status: 200 });
    expect(a!.error).toBeUndefined();
  });

  it('when the target answers 503 twice the task completes on attempt 3', async () => {
    const server = await startServer();
    const target = await startTarget((_r, i) => (i < 2 ? { status: 503, body: 'busy' } : { status: 200, body: 'fine' }));
    const task = await createTask(server, taskInput(target.url));
    const done = await waitForTerminal(server, task.id);
    expect(done).toMatchObject({ status: 'completed', attempts: 3, result: 'fine', error: null });
    expect(target.requests.map((r) => r.headers['aq-attempt'])).toEqual(['1', '2', '3']);
    const attempts = await attemptsOf(server, task.id);
    expect(attempts.map((a) => [a.n, a.status, a.error?.type])).toEqual([[1, 503, 'http'], [2, 503, 'http'], [3, 200, undefined]]);
    expect(attempts[0]!.error!.message).toContain('HTTP 503');
  });

  it('a task that always fails ends failed after retries + 1 attempts, each recorded', async () => {
    const server = await startServer();
    const target = await startTarget(() => ({ status: 500 }));
    const task = await createTask(server, taskInput(target.url, { retries: 2 }));
    const done = await waitForTerminal(server, task.id);
    expect(done).toMatchObject({ status: 'failed', attempts: 3, error: { type: 'http', status: 500 } });
    expect(target.requests.map((r) => r.headers['aq-attempt'])).toEqual(['1', '2', '3']);
    expect((await attemptsOf(server, task.id)).map((a) => [a.n, a.status])).toEqual([[1, 500], [2, 500], [3, 500]]);
  });

  it('an attempt is aborted once its timeout has passed on the server clock, and recorded as a timeout', async () => {
    const clock = manualClock();
    const server = await startServer({ clock });
    const target = await startTarget(() => ({ hang: true }));
    // 20 s: within this test only the server clock, moved below, can reach the deadline.
    const task = await createTask(server, taskInput(target.url, { timeout: 20, retries: 0 }));
    await target.waitForRequests(1);
    expect((await server.api(`/v1/tasks/${task.id}`)).body.status).toBe('running');
    clock.advance(20_000);
    const done = await waitForTerminal(server, task.id);
    expect(done).toMatchObject({ status: 'failed', attempts: 1, error: { type: 'timeout' } });
    const [a] = await attemptsOf(server, task.id);
    expect(a!.error!.type).toBe('timeout');
    expect(a!.error!.message).toContain('timed out after 20 s');
    await target.waitForAborted(1); // the request was dropped, not left open
  });

  it('a target that sends its headers but trickles its body past the timeout is also a timeout', async () => {
    const server = await startServer();
    const trickle = http.createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
    });
    await new Promise<void>((r) => trickle.listen(0, '127.0.0.1', () => r()));
    onTestFinished(() => new Promise<void>((r) => (trickle.closeAllConnections(), trickle.close(() => r()))));
    const task = await createTask(server, taskInput(`http://127.0.0.1:${(trickle.address() as AddressInfo).port}`, { timeout: 1, retries: 0 }));
    expect(await waitForTerminal(server, task.id)).toMatchObject({ status: 'failed', result: null, error: { type: 'timeout' } });
  });

  it('a 4xx is retried, but a 4xx with AQ-No-Retry: true fails at once', async () => {
    const server = await startServer();
    const flaky = await startTarget((_r, i) => (i === 0 ? { status: 404 } : { status: 200 }));
    const t1 = await createTask(server, taskInput(flaky.url));
    expect(await waitForTerminal(server, t1.id)).toMatchObject({ status: 'completed', attempts: 2 });

    const refusing = await startTarget(() => ({ status: 422, headers: { 'AQ-No-Retry': 'true' }, body: { error: 'bad payload' } }));
    const t2 = await createTask(server, taskInput(refusing.url, { retries: 5 }));
    const done = await waitForTerminal(server, t2.id);
    expect(done).toMatchObject({ status: 'failed', attempts: 1, error: { type: 'http', status: 422 } });
    expect(done.error!.message).toContain('bad payload');
    expect(refusing.requests).toHaveLength(1);
  });

  it('Retry-After: 1 sets the next attempt one second after the answer, despite a tiny backoff, and not a millisecond sooner', async () => {
    const clock = manualClock();
    const T = clock.now();
    const server = await startServer({ clock });
    const target = await startTarget((_r, i) => (i === 0 ? { status: 503, headers: { 'Retry-After': '1' } } : { status: 200 }));
    const task = await createTask(server, taskInput(target.url, { backoff: { initial: 0.01, factor: 2, max: 60 } }));
    const waiting = await waitForTask(server, task.id, (t) => t.status === 'pending' && t.attempts === 1);
    expect(ms(waiting.runAt)).toBe(T + 1_000);
    const passes = countCalls(server.store, 'dueQueues');
    clock.set(T + 999);
    await passes.next(2, (_q, now) => now === T + 999);
    expect(target.requests).toHaveLength(1);
    clock.set(T + 1_000);
    expect(await waitForTerminal(server, task.id)).toMatchObject({ status: 'completed', attempts: 2 });
    const [a1, a2] = await attemptsOf(server, task.id);
    expect([ms(a1!.startedAt), ms(a2!.startedAt)]).toEqual([T, T + 1_000]);
  });

  it("a Retry-After longer than backoff.max is capped at backoff.max for the task's run time; the origin waits it out (api.md §12)", async () => {
    const clock = manualClock();
    const T = clock.now();
    const server = await startServer({ clock });
    const target = await startTarget((_r, i) => (i === 0 ? { status: 429, headers: { 'Retry-After': '100' } } : { status: 200 }));
    const task = await createTask(server, taskInput(target.url, { backoff: { initial: 0.01, factor: 2, max: 0.2 } }));
    const waiting = await waitForTask(server, task.id, (t) => t.status === 'pending' && t.attempts === 1);
    expect(ms(waiting.runAt)).toBe(T + 200); // 0.2 s, not 100 s
    // api.md §12: the Retry-After of a 429 also holds the origin's next start (its 100 s): the
    // retry due at 0.2 s is given back unstarted, its attempt not counted, until then.
    clock.set(T + 200);
    server.scheduler.wake();
    const held = await waitForTask(server, task.id, (t) => ms(t.runAt) === T + 100_000);
    expect(held).toMatchObject({ status: 'pending', attempts: 1 });
    clock.set(T + 100_000);
    server.scheduler.wake();
    expect(await waitForTerminal(server, task.id)).toMatchObject({ status: 'completed', attempts: 2 });
    const [, a2] = await attemptsOf(server, task.id);
    expect(ms(a2!.startedAt)).toBe(T + 100_000);
  });

  it('a task with delay or runAt is not dispatched before its run time', async () => {
    const clock = manualClock();
    const T = clock.now();
    const server = await startServer({ clock });
    const target = await startTarget();
    const delayed = await createTask(server, taskInput(target.url, { delay: 0.7 }));
    const at = await createTask(server, taskInput(target.url, { runAt: new Date(T + 500).toISOString() }));
    const now = await createTask(server, taskInput(target.url));
    expect([ms(delayed.runAt), ms(at.runAt)]).toEqual([T + 700, T + 500]);
    expect(await waitForTerminal(server, now.id)).toMatchObject({ status: 'completed' });
    const passes = countCalls(server.store, 'dueQueues');
    for (const [t, runAt] of [[at, T + 500], [delayed, T + 700]] as const) {
      const before = target.requests.length;
      clock.set(runAt - 1);
      await passes.next(2, (_q, n) => n === runAt - 1);
      expect(target.requests).toHaveLength(before);
      clock.set(runAt);
      expect(await waitForTerminal(server, t.id)).toMatchObject({ status: 'completed' });
      const [a] = await attemptsOf(server, t.id);
      expect(ms(a!.startedAt)).toBe(runAt);
    }
    expect(target.requests.map((r) => r.headers['aq-task-id'])).toEqual([now.id, at.id, delayed.id]);
  });

  it('a task due in a month waits quietly: the scheduler arms one timer an hour ahead, not an overlong one that fires at once', async () => {
    const clock = manualClock();
    const T = clock.now();
    const server = await startServer({ clock });
    const target = await startTarget();
    const far = await createTask(server, taskInput(target.url, { delay: 30 * 86_400 }));
    const near = await createTask(server, taskInput(target.url));
    expect((await waitForTerminal(server, near.id)).status).toBe('completed');
    // setTimeout fires at once past 2^31−1 ms; a month is approached in hour-long steps instead.
    // The pass after near's finish arms the timer once its store reads are back: wait for that.
    for (const end = Date.now() + 20_000; server.scheduler.wakeAt === undefined && Date.now() < end; ) await new Promise((r) => setTimeout(r, 5));
    expect(server.scheduler.wakeAt).toBe(T + 3_600_000);
    expect((await server.api(`/v1/tasks/${far.id}`)).body.status).toBe('pending');
    expect(target.requests).toHaveLength(1);
  });
});
