// Queue limits proven at a real target: per-queue concurrency, rate limit, pause and resume,
// and fairness across queues under a small global --concurrency.
import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/shared/types.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTarget, type Target } from '../helpers/target.js';
import { taskInput, waitForTerminal } from '../helpers/tasks.js';

async function createBatch(server: TestServer, bodies: Record<string, unknown>[]): Promise<Task[]> {
  const r = await server.api('/v1/tasks/batch', { body: { tasks: bodies } });
  expect(r.status, JSON.stringify(r.body).slice(0, 500)).toBe(201);
  return r.body.tasks;
}

async function putQueue(server: TestServer, name: string, body: Record<string, unknown>) {
  const r = await server.api(`/v1/queues/${name}`, { method: 'PUT', body });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body;
}

const inQueue = (target: Target, queue: string) => target.requests.filter((r) => r.headers['aq-queue'] === queue);

describe('queue limits', () => {
  it('a queue with concurrency 3 never has more than 3 attempts in flight, and reaches 3', async () => {
    const server = await startServer();
    const target = await startTarget(() => ({ status: 200, delayMs: 30 }));
    expect(await putQueue(server, 'q', { concurrency: 3 })).toMatchObject({ name: 'q', concurrency: 3 });
    const tasks = await createBatch(server, Array.from({ length: 30 }, (_, i) => taskInput(target.url, { queue: 'q', payload: i })));
    await target.waitForRequests(30);
    for (const t of tasks) expect((await waitForTerminal(server, t.id)).status).toBe('completed');
    expect(target.maxInFlight).toBe(3);
  });

  it('a queue limited to 20 per second starts its tasks 20 per second (±10 %)', async () => {
    const server = await startServer();
    const target = await startTarget();
    await putQueue(server, 'slow', { ratePerSecond: 20 });
    await createBatch(server, Array.from({ length: 40 }, (_, i) => taskInput(target.url, { queue: 'slow', payload: i })));
    const reqs = await target.waitForRequests(40, 10_000);
    const rate = (reqs.length - 1) / ((reqs.at(-1)!.at - reqs[0]!.at) / 1000);
    expect(rate).toBeGreaterThanOrEqual(18);
    expect(rate).toBeLessThanOrEqual(22);
  });

  it('a paused queue accepts tasks but dispatches none until it is resumed', async () => {
    const server = await startServer();
    const target = await startTarget();
    expect(await putQueue(server, 'p', { paused: true })).toMatchObject({ paused: true });
    const held = await createBatch(server, Array.from({ length: 5 }, () => taskInput(target.url, { queue: 'p' })));
    // A task of another queue created after them runs to its end: the scheduler did claim meanwhile.
    const other = await createBatch(server, [taskInput(target.url, { queue: 'other' })]);
    expect((await waitForTerminal(server, other[0]!.id)).status).toBe('completed');
    const queues = (await server.api('/v1/queues')).body.queues as { name: string; paused: boolean; counts: Record<string, number> }[];
    expect(queues.find((q) => q.name === 'p')).toMatchObject({ paused: true, counts: { pending: 5, running: 0 } });

    const before = target.requests.length;
    expect(inQueue(target, 'p')).toHaveLength(0);
    await putQueue(server, 'p', { paused: false });
    for (const t of held) expect((await waitForTerminal(server, t.id)).status).toBe('completed');
    expect(target.requests.slice(before).filter((r) => r.headers['aq-queue'] === 'p')).toHaveLength(5);
    expect(before).toBe(1);
  });

  it('among due tasks of a queue, higher priority runs first', async () => {
    const server = await startServer();
    const target = await startTarget();
    await putQueue(server, 'prio', { paused: true, concurrency: 1 });
    const priorities = [0, 5, -3, 100, 5, -100, 1];
    await createBatch(server, priorities.map((priority) => taskInput(target.url, { queue: 'prio', priority, payload: priority })));
    await putQueue(server, 'prio', { paused: false });
    const reqs = await target.waitForRequests(priorities.length);
    expect(reqs.map((r) => r.json)).toEqual([100, 5, 5, 1, 0, -3, -100]);
  });

  it('with --concurrency 4, five tasks of queue B finish while queue A has a backlog of 2,000', async () => {
    const server = await startServer({ concurrency: 4 });
    const target = await startTarget(() => ({ status: 200, delayMs: 5 }));
    for (let b = 0; b < 2; b++) await createBatch(server, Array.from({ length: 1000 }, (_, i) => taskInput(target.url, { queue: 'A', payload: b * 1000 + i })));
    const aAtCreate = inQueue(target, 'A').length;
    const bTasks = await createBatch(server, Array.from({ length: 5 }, (_, i) => taskInput(target.url, { queue: 'B', payload: i })));
    for (const t of bTasks) expect((await waitForTerminal(server, t.id)).status).toBe('completed');
    const aAtDone = inQueue(target, 'A').length;
    expect(aAtCreate).toBeLessThan(1_500); // A still had a backlog when B arrived
    expect(aAtDone - aAtCreate).toBeLessThan(200);
    expect(target.maxInFlight).toBeLessThanOrEqual(4);
  });
});
