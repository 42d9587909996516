// Chains (api.md §13): `then` created in the transaction that ends a task completed, `onFailure`
// in the one that ends it failed, none on cancel; payload defaults, parentId / nextTaskId, and
// chains that compose with batches and with async completion.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/shared/types.js';
import { spawnServer, startServer, type TestServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput, waitForTerminal } from '../helpers/tasks.js';
import { tempDir } from '../helpers/temp.js';

const fast = { backoff: { initial: 0.01, factor: 2, max: 0.05 } };

/** The task a chain step created once `id` has ended with one (its nextTaskId), terminal. */
async function next(server: TestServer, id: string): Promise<Task> {
  const parent = await waitForTerminal(server, id);
  expect(parent.nextTaskId, `${id} created no task`).not.toBeNull();
  return waitForTerminal(server, parent.nextTaskId!);
}

describe('chains', () => {
  it('transcribe → summarise → email: each step gets the result before it, linked by parentId and nextTaskId', async () => {
    const server = await startServer();
    const transcribe = await startTarget(() => ({ status: 200, body: { transcript: 'hello world' } }));
    const summarise = await startTarget((req) => ({ status: 200, body: { summary: String(req.json.transcript).toUpperCase() } }));
    const email = await startTarget((req) => ({ status: 200, body: { sent: req.json } }));
    const r = await server.api('/v1/tasks', {
      body: {
        ...taskInput(transcribe.url, { payload: { audio: 'a.mp3' } }),
        then: { targetUrl: summarise.url, ...fast, then: { targetUrl: email.url, ...fast, queue: 'email' } },
      },
    });
    expect(r.status).toBe(201);
    const second = await next(server, r.body.id);
    expect(second).toMatchObject({ status: 'completed', parentId: r.body.id, payload: { transcript: 'hello world' }, result: { summary: 'HELLO WORLD' } });
    const third = await next(server, second.id);
    expect(third).toMatchObject({ status: 'completed', parentId: second.id, queue: 'email', payload: { summary: 'HELLO WORLD' }, nextTaskId: null });
    expect(email.requests[0]!.json).toEqual({ summary: 'HELLO WORLD' });
    expect((await server.api(`/v1/tasks/${r.body.id}`)).body.nextTaskId).toBe(second.id);
    // Each step ran once.
    expect([transcribe.requests.length, summarise.requests.length, email.requests.length]).toEqual([1, 1, 1]);
  });

  it('onFailure is created once the retries are exhausted, with the §5 webhook body as its payload; then is not', async () => {
    const server = await startServer();
    const broken = await startTarget(() => ({ status: 503, body: 'down' }));
    const alert = await startTarget();
    const never = await startTarget();
    const r = await server.api('/v1/tasks', {
      body: { ...taskInput(broken.url, { payload: { invoice: 7 }, retries: 2 }), then: { targetUrl: never.url }, onFailure: { targetUrl: alert.url, ...fast } },
    });
    const failure = await next(server, r.body.id);
    expect(broken.requests).toHaveLength(3);
    expect(failure).toMatchObject({ status: 'completed', parentId: r.body.id });
    expect(failure.payload).toMatchObject({ id: r.body.id, status: 'failed', payload: { invoice: 7 }, result: null, error: { type: 'http', status: 503 }, attempts: 3 });
    expect(never.requests).toHaveLength(0);
  });

  it('a step with its own payload keeps it; a cancelled task creates neither step', async () => {
    const server = await startServer();
    const target = await startTarget(() => ({ status: 200, body: { ignored: true } }));
    const r = await server.api('/v1/tasks', { body: { ...taskInput(target.url), then: { targetUrl: target.url, payload: { mine: 1 } } } });
    expect((await next(server, r.body.id)).payload).toEqual({ mine: 1 });

    await server.api('/v1/queues/held', { method: 'PUT', body: { paused: true } });
    const c = await server.api('/v1/tasks', { body: { ...taskInput(target.url, { queue: 'held' }), then: { targetUrl: target.url }, onFailure: { targetUrl: target.url } } });
    expect((await server.api(`/v1/tasks/${c.body.id}/cancel`, { method: 'POST' })).body).toMatchObject({ status: 'cancelled', nextTaskId: null });
    expect((await server.api(`/v1/tasks?limit=500`)).body.tasks.filter((t: Task) => t.parentId === c.body.id)).toEqual([]);
  });

  it('a failed task retried by hand that then completes creates its then', async () => {
    const server = await startServer();
    let up = false;
    const target = await startTarget(() => (up ? { status: 200, body: { ok: 1 } } : { status: 500 }));
    const after = await startTarget();
    const r = await server.api('/v1/tasks', { body: { ...taskInput(target.url, { retries: 0 }), then: { targetUrl: after.url, ...fast } } });
    const failed = await waitForTerminal(server, r.body.id);
    expect(failed).toMatchObject({ status: 'failed', nextTaskId: null });
    up = true;
    expect((await server.api(`/v1/tasks/${r.body.id}/retry`, { method: 'POST' })).status).toBe(200);
    const then = await next(server, r.body.id);
    expect(then).toMatchObject({ status: 'completed', parentId: r.body.id, payload: { ok: 1 } });
  });

  it('batch members carry their own then; the batch counts its members only', async () => {
    const server = await startServer();
    const render = await startTarget((req) => ({ status: 200, body: { pdf: `inv-${req.json}.pdf` } }));
    const mail = await startTarget();
    const r = await server.api('/v1/tasks/batch', {
      body: { tasks: [1, 2, 3].map((i) => ({ ...taskInput(render.url, { payload: i }), then: { targetUrl: mail.url, ...fast } })) },
    });
    for (const t of r.body.tasks as Task[]) expect((await next(server, t.id)).payload).toEqual({ pdf: `inv-${t.payload}.pdf` });
    expect((await server.api(`/v1/batches/${r.body.batchId}`)).body).toMatchObject({ total: 3, done: true, counts: { completed: 3 } });
    expect(((await server.api(`/v1/tasks?batch=${r.body.batchId}`)).body.tasks as Task[]).every((t) => t.parentId === null)).toBe(true);
  });

  it('an async task completed through its completion URL creates its then in the same transaction', async () => {
    const server = await startServer();
    const worker = await startTarget(() => ({ status: 202 }));
    const after = await startTarget();
    const r = await server.api('/v1/tasks', { body: { ...taskInput(worker.url), async: { timeout: 60 }, then: { targetUrl: after.url, ...fast } } });
    const [req] = await worker.waitForRequests(1);
    const done = await fetch(String(req!.headers['aq-completion-url']), {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${req!.headers['aq-completion-token']}` }, body: JSON.stringify({ result: { transcript: 'x' } }),
    });
    const task = (await done.json()) as Task;
    expect(task).toMatchObject({ status: 'completed' });
    expect(task.nextTaskId).not.toBeNull();
    expect(await waitForTerminal(server, task.nextTaskId!)).toMatchObject({ status: 'completed', parentId: r.body.id, payload: { transcript: 'x' } });
  });

  it('SIGKILL mid-chain loses nothing: the step in flight is retried after the restart and the chain runs to its end once', { timeout: 60_000 }, async () => {
    const db = path.join(tempDir(), 'aq.db');
    let alive = true;
    const first = await startTarget(() => ({ status: 200, body: { step: 1 } }));
    const second = await startTarget(() => (alive ? { hang: true } : { status: 200, body: { step: 2 } }));
    const third = await startTarget(() => ({ status: 200, body: { step: 3 } }));
    const a = await spawnServer(['--db', db]);
    const call = async (url: string, p: string, body?: unknown) => {
      const res = await fetch(url + p, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      return (await res.json()) as any;
    };
    const root = await call(a.url, '/v1/tasks', { ...taskInput(first.url), then: { targetUrl: second.url, ...fast, then: { targetUrl: third.url, ...fast } } });
    await second.waitForRequests(1);
    a.proc.kill('SIGKILL');
    await a.exited;
    alive = false;
    const b = await spawnServer(['--db', db]);
    const wait = async (id: string): Promise<Task> => {
      for (;;) {
        const t = (await call(b.url, `/v1/tasks/${id}?wait=30`)) as Task;
        if (['completed', 'failed', 'cancelled'].includes(t.status)) return t;
      }
    };
    const one = await wait(root.id);
    const two = await wait(one.nextTaskId!);
    expect(two.attempts).toBe(2); // the one cut off by the kill, recorded interrupted, and the retry
    const three = await wait(two.nextTaskId!);
    expect(three).toMatchObject({ status: 'completed', payload: { step: 2 }, result: { step: 3 } });
    expect([first.requests.length, third.requests.length]).toEqual([1, 1]);
    const all = (await call(b.url, '/v1/tasks?limit=500')).tasks as Task[];
    expect(all).toHaveLength(3);
  });
});
