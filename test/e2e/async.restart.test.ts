// Open async attempts survive a restart and a SIGKILL (api.md §10): the work is at the target,
// so they are not `interrupted`, their deadlines hold, and the target's token still works on
// the new process. A graceful stop does not wait for them.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Attempt, Task } from '../../src/shared/types.js';
import { spawnServer, startServer } from '../helpers/server.js';
import { startTarget, type RecordedRequest } from '../helpers/target.js';
import { taskInput, waitForTask } from '../helpers/tasks.js';
import { tempDir } from '../helpers/temp.js';

async function call(url: string, pathname: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await fetch(url + pathname, body === undefined ? {} : { method: 'POST', headers, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function untilAwaiting(url: string, id: string): Promise<Task> {
  // bounded by the test's timeout, not by a count of polls a loaded machine may need more of
  for (const end = Date.now() + 25_000; Date.now() < end; ) {
    const t = (await call(url, `/v1/tasks/${id}`)).body as Task;
    if (t.awaiting) return t;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`task ${id} never awaited`);
}

const token = (r: RecordedRequest) => String(r.headers['aq-completion-token']);

describe('async attempts across restarts', () => {
  it('a graceful restart keeps the attempt open with its deadline; the token completes it on the new server', async () => {
    const db = path.join(tempDir(), 'aq.db');
    const target = await startTarget(() => ({ status: 202 }));
    const a = await startServer({ db });
    const created = await a.api('/v1/tasks', { body: taskInput(target.url, { async: { timeout: 900, heartbeat: 300 } }) });
    const id = created.body.id as string;
    const [req] = await target.waitForRequests(1);
    const before = await waitForTask(a, id, (t) => t.awaiting !== null);
    // An open attempt is not in flight: the stop has nothing to wait for.
    expect(a.scheduler.inFlight).toBe(0);
    await a.close(60_000);

    const b = await startServer({ db });
    const after = (await b.api(`/v1/tasks/${id}`)).body as Task;
    expect(after).toMatchObject({ status: 'running', awaiting: before.awaiting, attempts: 1 });
    expect((await b.api(`/v1/tasks/${id}/heartbeat`, { body: {}, headers: { authorization: `Bearer ${token(req!)}` } })).status).toBe(200);
    const done = await b.api(`/v1/tasks/${id}/complete`, { body: { result: 'after restart' }, headers: { authorization: `Bearer ${token(req!)}` } });
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'completed', result: 'after restart' });
    const attempts = (await b.api(`/v1/tasks/${id}/attempts`)).body.attempts as Attempt[];
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ n: 1, status: 202, async: { ended: 'completed', lastHeartbeatAt: expect.any(String) } });
    expect(target.requests).toHaveLength(1);
  });

  it('after SIGKILL the open attempt is not interrupted and completes on the restarted binary, while a cut-off ordinary attempt is', { timeout: 60_000 }, async () => {
    const db = path.join(tempDir(), 'aq.db');
    const asyncTarget = await startTarget(() => ({ status: 202 }));
    let alive = true;
    const hanging = await startTarget(() => (alive ? { hang: true } : { status: 200, body: 'ok' }));
    const first = await spawnServer(['--db', db]);
    const slowTask = (await call(first.url, '/v1/tasks', taskInput(hanging.url))).body as Task;
    const asyncTask = (await call(first.url, '/v1/tasks', taskInput(asyncTarget.url, { async: { timeout: 3600 } }))).body as Task;
    await hanging.waitForRequests(1);
    const [req] = await asyncTarget.waitForRequests(1);
    const open = await untilAwaiting(first.url, asyncTask.id);
    first.proc.kill('SIGKILL');
    expect(await first.exited).toBeNull();
    alive = false;

    const second = await spawnServer(['--db', db]);
    const after = (await call(second.url, `/v1/tasks/${asyncTask.id}`)).body as Task;
    expect(after).toMatchObject({ status: 'running', attempts: 1, awaiting: open.awaiting, error: null });
    const done = await call(second.url, `/v1/tasks/${asyncTask.id}/complete`, { result: { ok: 1 } }, token(req!));
    expect(done.status, JSON.stringify(done.body)).toBe(200);
    expect(done.body).toMatchObject({ status: 'completed', result: { ok: 1 } });
    expect(asyncTarget.requests).toHaveLength(1);

    const slow = (await call(second.url, `/v1/tasks/${slowTask.id}?wait=10`)).body as Task;
    expect(slow.status).toBe('completed');
    const slowAttempts = (await call(second.url, `/v1/tasks/${slowTask.id}/attempts`)).body.attempts as Attempt[];
    expect(slowAttempts[0]!.error?.type).toBe('interrupted');
  });
});
