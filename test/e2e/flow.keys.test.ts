// api.md §12 keys at a real target: the per-key cap counted where the requests arrive, turns
// between a heavy and a light key measured in the order requests arrive (not in time), and
// `waiting.reason: "key_concurrency"` while a key is at its cap.
import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/shared/types.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput, waitForTask, waitForTerminal } from '../helpers/tasks.js';

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

describe('keys (api.md §12)', () => {
  it('with keyConcurrency 2, no key ever has more than 2 requests in flight at the target, and each reaches 2', async () => {
    const server = await startServer();
    const inFlight = new Map<string, number>();
    const most = new Map<string, number>();
    const held: (() => void)[] = [];
    // Requests are held until six (two of each of three keys) are in flight, then all answered:
    // a third request of one key would be counted at its arrival.
    const target = await startTarget(
      (req) =>
        new Promise((resolve) => {
          const key = req.json.key as string;
          inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
          most.set(key, Math.max(most.get(key) ?? 0, inFlight.get(key)!));
          held.push(() => {
            inFlight.set(key, inFlight.get(key)! - 1);
            resolve({ status: 200 });
          });
          if (held.length === 6) for (const release of held.splice(0)) release();
        }),
    );
    expect(await putQueue(server, 'tenants', { keyConcurrency: 2 })).toMatchObject({ keyConcurrency: 2 });
    const bodies = ['a', 'b', 'c'].flatMap((key) => Array.from({ length: 6 }, (_, i) => taskInput(target.url, { queue: 'tenants', concurrencyKey: key, payload: { key, i } })));
    const tasks = await createBatch(server, bodies);
    expect(tasks[0]!.concurrencyKey).toBe('a');
    for (const t of tasks) expect((await waitForTerminal(server, t.id)).status).toBe('completed');
    expect(Object.fromEntries(most)).toEqual({ a: 2, b: 2, c: 2 });
  });

  it("one tenant's 300 queued tasks do not hold back another tenant's single task: it starts within the next two attempts", async () => {
    // --concurrency 1: one attempt at a time, so the order of arrival at the target is the order of claims.
    const server = await startServer({ concurrency: 1 });
    const target = await startTarget();
    await putQueue(server, 'imports', { keyConcurrency: 10 });
    const heavy = await createBatch(server, Array.from({ length: 300 }, (_, i) => taskInput(target.url, { queue: 'imports', concurrencyKey: 'bulk-tenant', payload: { i } })));
    await target.waitForRequests(3);
    const [light] = await createBatch(server, [taskInput(target.url, { queue: 'imports', concurrencyKey: 'small-tenant', payload: { light: true } })]);
    const seenBefore = target.requests.length;
    await waitForTerminal(server, light!.id);
    const at = target.requests.findIndex((r) => r.json?.light === true);
    // The light key's wait, in attempts started after it was created: one already claimed, then its turn.
    expect(at - seenBefore).toBeLessThanOrEqual(2);
    for (const t of heavy) expect((await waitForTerminal(server, t.id)).status).toBe('completed');
  });

  it('a task whose key is at its cap says key_concurrency, and starts when the attempt in flight ends', async () => {
    const server = await startServer();
    let release: () => void = () => {};
    const target = await startTarget((_req, i) => (i === 0 ? new Promise((r) => (release = () => r({ status: 200 }))) : { status: 200 }));
    await putQueue(server, 'q', { keyConcurrency: 1 });
    const [first, second, other] = await createBatch(server, [
      taskInput(target.url, { queue: 'q', concurrencyKey: 'k' }),
      taskInput(target.url, { queue: 'q', concurrencyKey: 'k' }),
      taskInput(target.url, { queue: 'q', concurrencyKey: 'other' }),
    ]);
    await target.waitForRequests(2);
    expect((await waitForTerminal(server, other!.id)).status).toBe('completed');
    const waiting = (await server.api(`/v1/tasks/${second!.id}`)).body as Task;
    expect(waiting.status).toBe('pending');
    expect(waiting.waiting).toMatchObject({ reason: 'key_concurrency' });
    expect(waiting.waiting!.message).toContain('"k" has 1 of 1');
    const plan = (await server.api(`/v1/tasks/${second!.id}/plan`)).body;
    expect(plan.waiting.reason).toBe('key_concurrency');
    release();
    expect((await waitForTerminal(server, first!.id)).status).toBe('completed');
    expect((await waitForTerminal(server, second!.id)).status).toBe('completed');
    await waitForTask(server, second!.id, (t) => t.waiting === null);
  });

  it('removing keyConcurrency lets the queue claim by priority again, keys ignored', async () => {
    const server = await startServer();
    const target = await startTarget();
    await putQueue(server, 'q', { keyConcurrency: 1 });
    expect((await putQueue(server, 'q', { keyConcurrency: null })).keyConcurrency).toBeNull();
    const tasks = await createBatch(server, Array.from({ length: 5 }, () => taskInput(target.url, { queue: 'q', concurrencyKey: 'same' })));
    for (const t of tasks) expect((await waitForTerminal(server, t.id)).status).toBe('completed');
  });
});
