// Cancel and retry against real targets (api.md §2): a pending task, a running one whose
// request is aborted, and a failed task retried with fresh retries and its history kept.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import type { Attempt } from '../../src/shared/types.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { countCalls } from '../helpers/clock.js';
import { startTarget } from '../helpers/target.js';
import { createTask, taskInput, waitForTask, waitForTerminal } from '../helpers/tasks.js';

/** A target that never answers and records when the client drops each request's connection. */
async function hangingTarget() {
  const arrived: string[] = [];
  const aborted: string[] = [];
  let onAbort: () => void = () => {};
  const server = http.createServer((req, res) => {
    const id = String(req.headers['aq-task-id']);
    arrived.push(id);
    res.on('close', () => {
      aborted.push(id);
      onAbort();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onTestFinished(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const waitAborted = (n: number) =>
    new Promise<void>((resolve) => {
      if (aborted.length >= n) return resolve();
      onAbort = () => aborted.length >= n && resolve();
    });
  return { url, arrived, aborted, waitAborted };
}

/** Resolves once the scheduler has recorded an attempt of each of `ids` (an attempt is recorded just after its abort). */
function attemptsRecorded(server: TestServer, ids: string[]): Promise<void> {
  const left = new Set(ids);
  return countCalls(server.store, 'finishAttempts').next(1, (results) => {
    for (const r of results) left.delete(r.id);
    return left.size === 0;
  });
}

describe('cancel and retry', () => {
  it('a pending task is cancelled, never dispatched, and a second cancel is a conflict', async () => {
    const server = await startServer();
    const target = await startTarget();
    const task = await createTask(server, taskInput(target.url, { delay: 60 }));
    const r = await server.api(`/v1/tasks/${task.id}/cancel`, { method: 'POST' });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ id: task.id, status: 'cancelled', attempts: 0, error: { type: 'cancelled' } });
    expect((await server.api(`/v1/tasks/${task.id}/cancel`, { method: 'POST' })).status).toBe(409);
    expect((await server.api(`/v1/tasks/${task.id}/attempts`)).body.attempts).toEqual([]);
    expect(target.requests).toHaveLength(0);
  });

  it('cancelling a running task aborts its request, records the attempt as cancelled, and it stays cancelled', async () => {
    const server = await startServer();
    const target = await hangingTarget();
    const hook = await startTarget();
    const task = await createTask(server, taskInput(target.url, { timeout: 30, retries: 3, webhookUrl: hook.url }));
    await waitForTask(server, task.id, (t) => t.status === 'running');
    const recorded = attemptsRecorded(server, [task.id]);
    const r = await server.api(`/v1/tasks/${task.id}/cancel`, { method: 'POST' });
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('cancelled');
    await target.waitAborted(1);
    await recorded;
    const attempts = (await server.api(`/v1/tasks/${task.id}/attempts`)).body.attempts as Attempt[];
    expect(attempts).toHaveLength(1);
    // Its own error (not a timeout: the request was given 30 s), with the time it ran.
    expect(attempts[0]).toMatchObject({ n: 1, error: { type: 'cancelled' }, durationMs: expect.any(Number) });
    const after = (await server.api(`/v1/tasks/${task.id}`)).body;
    expect(after).toMatchObject({ status: 'cancelled', attempts: 1, webhook: null });
    expect(target.arrived).toEqual([task.id]);
    expect(server.scheduler.inFlight).toBe(0);
  });

  it('a bulk cancel by queue aborts every running request of that queue', async () => {
    const server = await startServer();
    const target = await hangingTarget();
    const other = await startTarget();
    const tasks = [];
    for (let i = 0; i < 3; i++) tasks.push(await createTask(server, taskInput(target.url, { queue: 'bulk' })));
    const spared = await createTask(server, taskInput(other.url, { queue: 'kept', delay: 0.3 }));
    for (const t of tasks) await waitForTask(server, t.id, (x) => x.status === 'running');
    const recorded = attemptsRecorded(server, tasks.map((t) => t.id));
    const r = await server.api('/v1/tasks/cancel', { body: { queue: 'bulk' } });
    expect(r.body).toEqual({ count: 3 });
    await target.waitAborted(3);
    await recorded;
    for (const t of tasks) {
      const a = (await server.api(`/v1/tasks/${t.id}/attempts`)).body.attempts as Attempt[];
      expect(a).toMatchObject([{ n: 1, error: { type: 'cancelled' }, durationMs: expect.any(Number) }]);
      expect((await server.api(`/v1/tasks/${t.id}`)).body.status).toBe('cancelled');
    }
    expect((await waitForTerminal(server, spared.id)).status).toBe('completed');
  });

  it('retrying a failed task gives it fresh retries; attempt numbers continue and history is kept', async () => {
    const server = await startServer();
    const target = await startTarget((_r, i) => (i < 4 ? { status: 500 } : { status: 200, body: { ok: 1 } }));
    const task = await createTask(server, taskInput(target.url, { retries: 1 }));
    expect(await waitForTerminal(server, task.id)).toMatchObject({ status: 'failed', attempts: 2 });

    const r1 = await server.api(`/v1/tasks/${task.id}/retry`, { method: 'POST' });
    expect(r1.status).toBe(200);
    expect(r1.body).toMatchObject({ status: 'pending', attempts: 2, error: null });
    expect(await waitForTerminal(server, task.id)).toMatchObject({ status: 'failed', attempts: 4 });

    expect((await server.api(`/v1/tasks/${task.id}/retry`, { method: 'POST' })).status).toBe(200);
    expect(await waitForTerminal(server, task.id)).toMatchObject({ status: 'completed', attempts: 5, result: { ok: 1 } });
    const attempts = (await server.api(`/v1/tasks/${task.id}/attempts`)).body.attempts as Attempt[];
    expect(attempts.map((a) => [a.n, a.status])).toEqual([[1, 500], [2, 500], [3, 500], [4, 500], [5, 200]]);
    expect(target.requests.map((q) => q.headers['aq-attempt'])).toEqual(['1', '2', '3', '4', '5']);
    expect((await server.api(`/v1/tasks/${task.id}/retry`, { method: 'POST' })).status).toBe(409);
  });

  it('a cancelled task can be retried and then runs', async () => {
    const server = await startServer();
    const target = await startTarget();
    const task = await createTask(server, taskInput(target.url, { delay: 60 }));
    await server.api(`/v1/tasks/${task.id}/cancel`, { method: 'POST' });
    const r = await server.api(`/v1/tasks/${task.id}/retry`, { method: 'POST' });
    expect(r.body.status).toBe('pending');
    // A retry makes the task due now, whatever its original delay.
    expect(await waitForTerminal(server, task.id)).toMatchObject({ status: 'completed', attempts: 1 });
  });
});
