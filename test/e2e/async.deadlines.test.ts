// Async deadlines and limits (api.md §10): async.timeout and late heartbeats time an open attempt
// out (then it is retried), heartbeats move the deadline but never past the timeout, a storm
// of heartbeats leaves the server healthy, and open attempts hold no concurrency slot.
// Time is an injected clock moved by the test; the scheduler is woken as its timer would be.
import { describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTarget, type RecordedRequest } from '../helpers/target.js';
import { createTask, taskInput, waitForTask, waitForTerminal } from '../helpers/tasks.js';
import type { Attempt, Task } from '../../src/shared/types.js';

const accepted = { status: 202, body: {} };

function manualClock() {
  let now = Date.now();
  return { now: () => now, advance: (ms: number) => (now += ms), at: () => now };
}

async function beat(server: TestServer, req: RecordedRequest) {
  return server.api(`/v1/tasks/${String(req.headers['aq-task-id'])}/heartbeat`, {
    body: {}, headers: { authorization: `Bearer ${String(req.headers['aq-completion-token'])}` },
  });
}

const awaitingAttempt = (n: number) => (t: Task) => t.status === 'running' && t.awaiting?.attempt === n;
const NO_BACKOFF = { initial: 0, factor: 2, max: 0 };

describe('async deadlines', () => {
  it('async.timeout passing times the attempt out and retries it; complete with the old token is then 409', async () => {
    const clock = manualClock();
    const server = await startServer({ clock });
    const target = await startTarget(() => accepted);
    const task = await createTask(server, taskInput(target.url, { async: { timeout: 60 }, retries: 1, backoff: NO_BACKOFF }));
    const [r1] = await target.waitForRequests(1);
    const open = await waitForTask(server, task.id, awaitingAttempt(1));
    expect(Date.parse(open.awaiting!.deadline)).toBe(Date.parse(open.awaiting!.since) + 60_000);

    clock.advance(59_999);
    server.scheduler.wake();
    expect((await server.api(`/v1/tasks/${task.id}`)).body.awaiting).toMatchObject({ attempt: 1 });
    clock.advance(1);
    server.scheduler.wake();
    await target.waitForRequests(2);
    const second = await waitForTask(server, task.id, awaitingAttempt(2));
    expect(second.error).toMatchObject({ type: 'timeout', message: expect.stringMatching(/async\.timeout 60 s/) });

    const late = await server.api(`/v1/tasks/${task.id}/complete`, { body: { result: 1 }, headers: { authorization: `Bearer ${String(r1!.headers['aq-completion-token'])}` } });
    expect(late.status).toBe(409);
    expect(late.body.error.message).toMatch(/attempt 1 .* timed out/);

    // The last attempt timing out fails the task.
    clock.advance(60_000);
    server.scheduler.wake();
    const failed = await waitForTerminal(server, task.id);
    expect(failed).toMatchObject({ status: 'failed', error: { type: 'timeout' }, attempts: 2 });
    const attempts = (await server.api(`/v1/tasks/${task.id}/attempts`)).body.attempts as Attempt[];
    expect(attempts.map((a) => a.async?.ended)).toEqual(['timeout', 'timeout']);
  });

  it('a complete that arrives after the deadline but before the dispatcher noticed is 409, and the timeout is recorded', async () => {
    const clock = manualClock();
    const server = await startServer({ clock });
    const target = await startTarget(() => accepted);
    const task = await createTask(server, taskInput(target.url, { async: { timeout: 10 }, retries: 0 }));
    const [req] = await target.waitForRequests(1);
    await waitForTask(server, task.id, awaitingAttempt(1));
    clock.advance(10_000);
    const late = await server.api(`/v1/tasks/${task.id}/complete`, { body: { result: 1 }, headers: { authorization: `Bearer ${String(req!.headers['aq-completion-token'])}` } });
    expect(late.status).toBe(409);
    expect(late.body.error.message).toMatch(/timed out/);
    expect(await waitForTerminal(server, task.id)).toMatchObject({ status: 'failed', error: { type: 'timeout' } });
  });

  it('heartbeats move the deadline (never past async.timeout); a late heartbeat times the attempt out', async () => {
    const clock = manualClock();
    const server = await startServer({ clock });
    const target = await startTarget(() => accepted);
    const task = await createTask(server, taskInput(target.url, { async: { timeout: 30, heartbeat: 10 }, retries: 0 }));
    const [req] = await target.waitForRequests(1);
    const open = await waitForTask(server, task.id, awaitingAttempt(1));
    const since = Date.parse(open.awaiting!.since);
    expect(Date.parse(open.awaiting!.deadline)).toBe(since + 10_000);

    clock.advance(5_000);
    const b1 = await beat(server, req!);
    expect(b1.status).toBe(200);
    expect(Date.parse(b1.body.deadline)).toBe(clock.at() + 10_000);
    const t1 = (await server.api(`/v1/tasks/${task.id}`)).body as Task;
    expect(t1.awaiting).toMatchObject({ deadline: b1.body.deadline, heartbeatAt: new Date(clock.at()).toISOString() });

    clock.advance(9_000); // 14 s after the 202, 1 s before the deadline
    expect(Date.parse((await beat(server, req!)).body.deadline)).toBe(since + 24_000);
    clock.advance(9_000); // 23 s after the 202: only 7 s left of the 30 s timeout
    expect(Date.parse((await beat(server, req!)).body.deadline)).toBe(since + 30_000);

    clock.advance(6_999);
    server.scheduler.wake();
    expect((await beat(server, req!)).status).toBe(200);
    clock.advance(1);
    server.scheduler.wake();
    const done = await waitForTerminal(server, task.id);
    expect(done.error).toMatchObject({ type: 'timeout', message: expect.stringMatching(/async\.timeout 30 s/) });
    expect((await beat(server, req!)).status).toBe(409);
  });

  it('a heartbeat that does not come in time fails the attempt with a heartbeat error', async () => {
    const clock = manualClock();
    const server = await startServer({ clock });
    const target = await startTarget(() => accepted);
    const task = await createTask(server, taskInput(target.url, { async: { timeout: 3600, heartbeat: 10 }, retries: 0 }));
    const [req] = await target.waitForRequests(1);
    await waitForTask(server, task.id, awaitingAttempt(1));
    clock.advance(8_000);
    expect((await beat(server, req!)).status).toBe(200);
    clock.advance(10_000);
    server.scheduler.wake();
    const done = await waitForTerminal(server, task.id);
    expect(done.error).toMatchObject({ type: 'timeout', message: expect.stringMatching(/no heartbeat within async\.heartbeat 10 s \(the last at /) });
    const [a] = (await server.api(`/v1/tasks/${task.id}/attempts`)).body.attempts as Attempt[];
    expect(a!.async).toMatchObject({ ended: 'timeout', lastHeartbeatAt: expect.any(String) });
  });

  it('a storm of 1000 concurrent heartbeats gets 200s only, and the server stays healthy', async () => {
    const server = await startServer();
    const target = await startTarget(() => accepted);
    const task = await createTask(server, taskInput(target.url, { async: { timeout: 3600, heartbeat: 60 } }));
    const [req] = await target.waitForRequests(1);
    await waitForTask(server, task.id, awaitingAttempt(1));
    const statuses = new Map<number, number>();
    for (let i = 0; i < 10; i++) {
      const answers = await Promise.all(Array.from({ length: 100 }, () => beat(server, req!)));
      for (const a of answers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 200: 1000 });
    expect((await server.api('/healthz')).status).toBe(200);
    const t = (await server.api(`/v1/tasks/${task.id}`)).body as Task;
    expect(t.awaiting!.heartbeatAt).not.toBeNull();
    expect(Date.parse(t.awaiting!.deadline)).toBeGreaterThan(Date.parse(t.awaiting!.heartbeatAt!));
  });
});

describe('open async attempts and concurrency', () => {
  it('open attempts hold no slot: a queue of concurrency 2 with 100 awaiting tasks still runs a new short task', async () => {
    const server = await startServer();
    const slow = await startTarget(() => accepted);
    const quick = await startTarget(() => ({ status: 200, body: { quick: true } }));
    await server.api('/v1/queues/reports', { method: 'PUT', body: { concurrency: 2 } });
    const batch = await server.api('/v1/tasks/batch', { body: { tasks: Array.from({ length: 100 }, () => taskInput(slow.url, { queue: 'reports', async: {} })) } });
    expect(batch.status).toBe(201);
    await slow.waitForRequests(100);
    const ids = (batch.body.tasks as Task[]).map((t) => t.id);
    await waitForTask(server, ids[99]!, awaitingAttempt(1));
    expect(slow.maxInFlight).toBeLessThanOrEqual(2);
    const short = await createTask(server, taskInput(quick.url, { queue: 'reports' }));
    expect(await waitForTerminal(server, short.id)).toMatchObject({ status: 'completed', result: { quick: true } });
    expect(server.scheduler.inFlight).toBe(0);
    const running = (await server.api('/v1/queues')).body.queues.find((q: { name: string }) => q.name === 'reports').counts.running;
    expect(running).toBe(100);
  });

  it('with --concurrency 1 an open attempt does not block the next task', async () => {
    const server = await startServer({ concurrency: 1 });
    const slow = await startTarget(() => accepted);
    const quick = await startTarget();
    const a = await createTask(server, taskInput(slow.url, { async: {} }));
    await waitForTask(server, a.id, awaitingAttempt(1));
    const b = await createTask(server, taskInput(quick.url));
    expect((await waitForTerminal(server, b.id)).status).toBe('completed');
    expect((await server.api(`/v1/tasks/${a.id}`)).body.status).toBe('running');
  });
});
