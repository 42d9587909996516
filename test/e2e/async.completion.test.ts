// Async completion end to end (api.md §10): real targets that answer 202 and call back later
// with their AQ-Completion-Token, the attempt record, webhooks, retries after fail, and the
// idempotency, 409 and 401 rules.
import { describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTarget, type RecordedRequest } from '../helpers/target.js';
import { createTask, taskInput, waitForTask, waitForTerminal } from '../helpers/tasks.js';
import type { Attempt, Task } from '../../src/shared/types.js';

const accepted = { status: 202, body: { accepted: true } };

async function call(server: TestServer, req: RecordedRequest, action: 'complete' | 'fail' | 'heartbeat', body: unknown = {}, token?: string) {
  const id = String(req.headers['aq-task-id']);
  return server.api(`/v1/tasks/${id}/${action}`, {
    body,
    headers: { authorization: `Bearer ${token ?? String(req.headers['aq-completion-token'])}` },
  });
}

const awaitingAttempt = (n: number) => (t: Task) => t.status === 'running' && t.awaiting?.attempt === n;

describe('async completion', () => {
  it('a target that answers 202 and calls complete later completes the task with its result and fires the webhook', async () => {
    const server = await startServer();
    const target = await startTarget(() => accepted);
    const hook = await startTarget();
    const task = await createTask(server, taskInput(target.url + '/work', { async: { timeout: 600 }, webhookUrl: hook.url + '/done' }));
    expect(task.async).toEqual({ timeout: 600, heartbeat: null });
    const [req] = await target.waitForRequests(1);
    expect(req!.headers['aq-completion-url']).toBe(`${server.url}/v1/tasks/${task.id}/complete`);
    expect(String(req!.headers['aq-completion-token'])).toMatch(/^aqc1\.1\./);

    const open = await waitForTask(server, task.id, awaitingAttempt(1));
    expect(Date.parse(open.awaiting!.deadline) - Date.parse(open.awaiting!.since)).toBe(600_000);
    expect(open.awaiting!.heartbeatAt).toBeNull();

    const done = await call(server, req!, 'complete', { result: { pages: 12 } });
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ status: 'completed', result: { pages: 12 }, awaiting: null, attempts: 1 });

    const [delivery] = await hook.waitForRequests(1);
    expect(delivery!.json).toMatchObject({ id: task.id, status: 'completed', result: { pages: 12 }, attempts: 1 });

    const attempts = (await server.api(`/v1/tasks/${task.id}/attempts`)).body.attempts as Attempt[];
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ n: 1, status: 202, async: { ended: 'completed', lastHeartbeatAt: null } });
    expect(attempts[0]!.durationMs).toBeGreaterThanOrEqual(0);
    expect(attempts[0]!.async!.endedAt).not.toBeNull();
  });

  it('repeating complete answers 200 and changes nothing; fail after it is 409; cancel of a completed task is 409', async () => {
    const server = await startServer();
    const target = await startTarget(() => accepted);
    const task = await createTask(server, taskInput(target.url, { async: {} }));
    const [req] = await target.waitForRequests(1);
    await waitForTask(server, task.id, awaitingAttempt(1));
    const first = await call(server, req!, 'complete', { result: 'one' });
    expect(first.status).toBe(200);
    const again = await call(server, req!, 'complete', { result: 'two' });
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ status: 'completed', result: 'one', updatedAt: first.body.updatedAt });
    const fail = await call(server, req!, 'fail', { message: 'late' });
    expect(fail.status).toBe(409);
    expect(fail.body.error.message).toMatch(/attempt 1 .* was completed/);
    const beat = await call(server, req!, 'heartbeat');
    expect(beat.status).toBe(409);
  });

  it('fail retries by backoff with a new token; the attempt-1 token on attempt 2 is 409, with a wrong body attempt 401', async () => {
    const server = await startServer();
    const target = await startTarget(() => accepted);
    const task = await createTask(server, taskInput(target.url, { async: {}, retries: 2 }));
    const [r1] = await target.waitForRequests(1);
    await waitForTask(server, task.id, awaitingAttempt(1));
    const failed = await call(server, r1!, 'fail', { message: 'GPU lost' });
    expect(failed.status, JSON.stringify(failed.body)).toBe(200);
    expect(failed.body.error).toEqual({ type: 'async', message: 'the target failed the attempt: GPU lost' });
    expect(['pending', 'running']).toContain(failed.body.status);

    const [, r2] = await target.waitForRequests(2);
    expect(r2!.headers['aq-attempt']).toBe('2');
    expect(r2!.headers['aq-completion-token']).not.toBe(r1!.headers['aq-completion-token']);
    await waitForTask(server, task.id, awaitingAttempt(2));

    const stale = await call(server, r1!, 'complete', { result: 1 });
    expect(stale.status).toBe(409);
    expect(stale.body.error.message).toMatch(/attempt 1 .* was failed by the target/);
    const repeat = await call(server, r1!, 'fail', { message: 'GPU lost' });
    expect(repeat.status).toBe(200);
    expect(repeat.body.awaiting).toMatchObject({ attempt: 2 });
    const mismatch = await call(server, r1!, 'complete', { result: 1, attempt: 2 });
    expect(mismatch.status).toBe(401);
    expect(mismatch.body.error.message).toMatch(/for attempt 1, not attempt 2/);

    const final = await call(server, r2!, 'fail', { message: 'bad input', retry: false });
    expect(final.status).toBe(200);
    expect(final.body).toMatchObject({ status: 'failed', error: { type: 'async' } });
    expect(target.requests).toHaveLength(2);
    const attempts = (await server.api(`/v1/tasks/${task.id}/attempts`)).body.attempts as Attempt[];
    expect(attempts.map((a) => [a.n, a.status, a.async?.ended, a.error?.type])).toEqual([
      [1, 202, 'failed', 'async'],
      [2, 202, 'failed', 'async'],
    ]);
  });

  it('tokens of another task, malformed ones and none (with --token) are 401; the API token works', async () => {
    const server = await startServer({ token: 'api-secret-token' });
    const target = await startTarget(() => accepted);
    const a = await createTask(server, taskInput(target.url, { async: {} }));
    const b = await createTask(server, taskInput(target.url, { async: {} }));
    await target.waitForRequests(2);
    await waitForTask(server, a.id, awaitingAttempt(1));
    await waitForTask(server, b.id, awaitingAttempt(1));
    const reqA = target.requests.find((r) => r.headers['aq-task-id'] === a.id)!;
    const reqB = target.requests.find((r) => r.headers['aq-task-id'] === b.id)!;

    const foreign = await server.api(`/v1/tasks/${a.id}/complete`, { body: {}, headers: { authorization: `Bearer ${String(reqB.headers['aq-completion-token'])}` } });
    expect(foreign.status).toBe(401);
    expect(foreign.body.error).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/does not belong to task/) });
    const malformed = await server.api(`/v1/tasks/${a.id}/complete`, { body: {}, headers: { authorization: 'Bearer aqc1.1.xyz' } });
    expect(malformed.status).toBe(401);
    const none = await fetch(`${server.url}/v1/tasks/${a.id}/complete`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(none.status).toBe(401);
    expect(((await none.json()) as { error: { message: string } }).error.message).toMatch(/AQ-Completion-Token/);
    // A completion token opens nothing but its own attempt's three routes.
    const other = await server.api(`/v1/tasks/${a.id}`, { headers: { authorization: `Bearer ${String(reqA.headers['aq-completion-token'])}` } });
    expect(other.status).toBe(401);

    const byApi = await server.api(`/v1/tasks/${a.id}/complete`, { body: { result: 'by hand' } });
    expect(byApi.status).toBe(200);
    expect(byApi.body).toMatchObject({ status: 'completed', result: 'by hand' });
    expect((await call(server, reqB, 'complete', { result: 'ok' })).status).toBe(200);
  });

  it('a result over --max-result is 413 and the attempt stays open', async () => {
    const server = await startServer({ maxResult: 100 });
    const target = await startTarget(() => accepted);
    const task = await createTask(server, taskInput(target.url, { async: {} }));
    const [req] = await target.waitForRequests(1);
    await waitForTask(server, task.id, awaitingAttempt(1));
    const big = await call(server, req!, 'complete', { result: 'x'.repeat(200) });
    expect(big.status).toBe(413);
    expect(big.body.error.code).toBe('payload_too_large');
    expect((await server.api(`/v1/tasks/${task.id}`)).body.awaiting).toMatchObject({ attempt: 1 });
    expect((await call(server, req!, 'complete', { result: 'small' })).status).toBe(200);
  });

  it('concurrent complete and fail for one attempt: exactly one wins, the other is 409', async () => {
    const server = await startServer();
    const target = await startTarget(() => accepted);
    const tasks = await Promise.all(Array.from({ length: 10 }, () => createTask(server, taskInput(target.url, { async: {}, retries: 0 }))));
    await target.waitForRequests(10);
    for (const t of tasks) await waitForTask(server, t.id, awaitingAttempt(1));
    for (const req of target.requests) {
      const [c, f] = await Promise.all([call(server, req, 'complete', { result: 1 }), call(server, req, 'fail', { message: 'no' })]);
      expect([c.status, f.status].sort()).toEqual([200, 409]);
      const t = (await server.api(`/v1/tasks/${String(req.headers['aq-task-id'])}`)).body as Task;
      expect(t.status).toBe(c.status === 200 ? 'completed' : 'failed');
    }
  });

  it('a task without async treats a 202 as an ordinary 2xx, with the body as result and no completion headers', async () => {
    const server = await startServer();
    const target = await startTarget(() => accepted);
    const task = await createTask(server, taskInput(target.url));
    const done = await waitForTerminal(server, task.id);
    expect(done).toMatchObject({ status: 'completed', result: { accepted: true }, async: null, awaiting: null });
    expect(target.requests[0]!.headers['aq-completion-token']).toBeUndefined();
    const r = await server.api(`/v1/tasks/${task.id}/complete`, { body: {} });
    expect(r.status).toBe(409);
  });

  it('cancelling an awaiting task closes its attempt; its token then answers 409', async () => {
    const server = await startServer();
    const target = await startTarget(() => accepted);
    const task = await createTask(server, taskInput(target.url, { async: {} }));
    const [req] = await target.waitForRequests(1);
    await waitForTask(server, task.id, awaitingAttempt(1));
    expect((await server.api(`/v1/tasks/${task.id}/cancel`, { method: 'POST' })).body).toMatchObject({ status: 'cancelled', awaiting: null });
    const late = await call(server, req!, 'complete', { result: 1 });
    expect(late.status).toBe(409);
    expect(late.body.error.message).toMatch(/was cancelled/);
    const attempts = (await server.api(`/v1/tasks/${task.id}/attempts`)).body.attempts as Attempt[];
    expect(attempts[0]).toMatchObject({ n: 1, status: 202, error: { type: 'cancelled' }, async: { ended: 'cancelled' } });
  });
});
