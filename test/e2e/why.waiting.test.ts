// `waiting` on Task answers (api.md §11): each reason produced by its real cause on a real
// server — a future runAt, a backoff after a 503, a paused queue, a full queue, a rate limit,
// a full global concurrency, a blocker plugged in as flow control will — and its cost on a list.
import { describe, expect, it } from 'vitest';
import { startServer, testStore, type TestServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { createTask, taskInput, waitForTask } from '../helpers/tasks.js';
import type { Task } from '../../src/shared/types.js';

const get = async (server: TestServer, id: string) => (await server.api(`/v1/tasks/${id}`)).body as Task;

describe('waiting', () => {
  it('a task due in a free queue is ready; one with a delay is scheduled until its runAt; running and terminal tasks have none', async () => {
    const server = await startServer();
    const target = await startTarget(() => ({ hang: true }));
    // The 201 is answered before the scheduler's next claim: the task is due and next in line.
    const ready = (await server.api('/v1/tasks', { body: taskInput(target.url) })).body as Task;
    expect(ready.waiting).toEqual({ reason: 'ready', message: expect.stringMatching(/due now/) });
    const later = await createTask(server, taskInput(target.url, { delay: 3600 }));
    expect(later.waiting).toMatchObject({ reason: 'scheduled', until: later.runAt, message: expect.stringMatching(/^scheduled; not before \d\d:\d\d:\d\d UTC|^scheduled; not before \d{4}-/) });
    const running = await waitForTask(server, ready.id, (t) => t.status === 'running');
    expect(running.waiting).toBeNull();
  });

  it('a retry after HTTP 503 waits in backoff until its runAt, and says which retry of how many', async () => {
    const server = await startServer();
    const target = await startTarget(() => ({ status: 503, body: 'busy' }));
    const task = await createTask(server, taskInput(target.url, { retries: 5, backoff: { initial: 3600, factor: 2, max: 7200 } }));
    const t = await waitForTask(server, task.id, (x) => x.status === 'pending' && x.attempts === 1);
    expect(t.waiting).toEqual({ reason: 'backoff', until: t.runAt, message: expect.stringMatching(/^retry 1 of 5 after HTTP 503; not before /) });
  });

  it('a paused queue says queue_paused, even for a task whose runAt is ahead', async () => {
    const server = await startServer();
    const target = await startTarget();
    await server.api('/v1/queues/reports', { method: 'PUT', body: { paused: true } });
    const now = await createTask(server, taskInput(target.url, { queue: 'reports' }));
    const later = await createTask(server, taskInput(target.url, { queue: 'reports', delay: 60 }));
    for (const t of [now, later]) expect((await get(server, t.id)).waiting).toMatchObject({ reason: 'queue_paused', message: expect.stringContaining('"reports" is paused') });
    const page = (await server.api('/v1/tasks?queue=reports')).body.tasks as Task[];
    expect(page.map((t) => t.waiting?.reason)).toEqual(['queue_paused', 'queue_paused']);
  });

  it('a queue with all its concurrency in flight says queue_concurrency', async () => {
    const server = await startServer();
    const target = await startTarget(() => ({ hang: true }));
    await server.api('/v1/queues/one', { method: 'PUT', body: { concurrency: 1 } });
    await createTask(server, taskInput(target.url, { queue: 'one' }));
    await target.waitForRequests(1);
    const second = await createTask(server, taskInput(target.url, { queue: 'one' }));
    expect((await get(server, second.id)).waiting).toMatchObject({ reason: 'queue_concurrency', message: expect.stringContaining('1 of 1 attempts in flight') });
  });

  it('a queue out of rate tokens says queue_rate until the next token', async () => {
    const now = Date.now();
    const server = await startServer({ clock: { now: () => now } });
    const target = await startTarget();
    await server.api('/v1/queues/slow', { method: 'PUT', body: { ratePerSecond: 0.01 } });
    const first = await createTask(server, taskInput(target.url, { queue: 'slow' }));
    await target.waitForRequests(1);
    const second = await createTask(server, taskInput(target.url, { queue: 'slow' }));
    const w = (await get(server, second.id)).waiting!;
    expect(w).toMatchObject({ reason: 'queue_rate', message: expect.stringContaining('rate limit of 0.01 per second') });
    const started = Date.parse((await server.api(`/v1/tasks/${first.id}/attempts`)).body.attempts[0].startedAt);
    expect(started).toBe(now);
    expect(Date.parse(w.until!)).toBe(now + 100_000);
  });

  it('a server with every --concurrency slot in flight says global_concurrency', async () => {
    const server = await startServer({ concurrency: 1 });
    const target = await startTarget(() => ({ hang: true }));
    await createTask(server, taskInput(target.url, { queue: 'a' }));
    await target.waitForRequests(1);
    const other = await createTask(server, taskInput(target.url, { queue: 'b' }));
    expect((await get(server, other.id)).waiting).toMatchObject({ reason: 'global_concurrency', message: expect.stringContaining('all 1 slots') });
  });

  it('a blocker plugged into the explainer supplies its own reason (the hook flow control uses)', async () => {
    const server = await startServer();
    const until = new Date(Date.now() + 30_000).toISOString();
    server.explainer.addBlocker((t) =>
      t.task?.targetUrl.startsWith('http://127.0.0.1:9/') ? { reason: 'host_circuit_open', until, message: 'circuit of http://127.0.0.1:9 is open' } : undefined,
    );
    // The batch answer is computed before the scheduler claims the task.
    const batch = await server.api('/v1/tasks/batch', { body: { tasks: [taskInput('http://127.0.0.1:9/x', { queue: 'q' })] } });
    expect(batch.body.tasks[0].waiting).toEqual({ reason: 'host_circuit_open', until, message: 'circuit of http://127.0.0.1:9 is open' });
  });

  it('a list of 500 pending tasks costs the store no query per task', async () => {
    const server = await startServer();
    await server.api('/v1/queues/bulk', { method: 'PUT', body: { paused: true } });
    const tasks = Array.from({ length: 500 }, (_, i) => taskInput('http://127.0.0.1:9/x', { queue: 'bulk', payload: i }));
    expect((await server.api('/v1/tasks/batch', { body: { tasks } })).status).toBe(201);
    const calls = new Map<string, number>();
    const store = server.store as unknown as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(Object.getPrototypeOf(server.store))) {
      const fn = store[name];
      if (name === 'constructor' || typeof fn !== 'function') continue;
      // The SQLite store's private paths (read, write, …) count the database calls themselves.
      store[name] = (...args: unknown[]) => (calls.set(name, (calls.get(name) ?? 0) + 1), (fn as (...a: unknown[]) => unknown).apply(server.store, args));
    }
    const page = await server.api('/v1/tasks?limit=500');
    expect(page.body.tasks).toHaveLength(500);
    expect(new Set((page.body.tasks as Task[]).map((t) => t.waiting?.reason))).toEqual(new Set(['queue_paused']));
    const { read, ...methods } = Object.fromEntries(calls);
    expect(methods).toEqual({ listTasks: 1, queueLimits: 1 });
    // SQLite: `read` is its one path to the database for reads: two in all for the page of 500.
    if (testStore === 'sqlite') expect(read).toBe(2);
  });
});
