// Async completion across nodes (api.md §9–§10), PostgreSQL only (two servers cannot share a SQLite file): two servers on one database.
// The attempt node A dispatched is completed through node B with its token; a heartbeat through
// B holds on A; with A gone, B times the attempt out and retries it, and a restarted A leaves it alone.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Attempt, Task } from '../../src/shared/types.js';
import { startServer, testStore } from '../helpers/server.js';
import { startTarget, type RecordedRequest } from '../helpers/target.js';
import { taskInput, waitForTask, waitForTerminal } from '../helpers/tasks.js';
import { tempDir } from '../helpers/temp.js';

const auth = (r: RecordedRequest) => ({ authorization: `Bearer ${String(r.headers['aq-completion-token'])}` });

describe.skipIf(testStore !== 'postgres')('async attempts on several nodes', () => {
  it('node B completes, heartbeats and times out what node A dispatched', async () => {
    const db = path.join(tempDir(), 'aq.db');
    const target = await startTarget(() => ({ status: 202 }));
    const a = await startServer({ db, nodeId: 'node-a' });
    const done = await a.api('/v1/tasks', { body: taskInput(target.url, { async: {} }) });
    const [r1] = await target.waitForRequests(1);
    await waitForTask(a, done.body.id, (t) => t.awaiting !== null);
    // B starts after A made the attempt: whatever B does with it, B did not dispatch it.
    const b = await startServer({ db, nodeId: 'node-b' });
    const completed = await b.api(`/v1/tasks/${done.body.id}/complete`, { body: { result: 'via b' }, headers: auth(r1!) });
    expect(completed.status).toBe(200);
    expect((await a.api(`/v1/tasks/${done.body.id}`)).body).toMatchObject({ status: 'completed', result: 'via b' });

    const beaten = await a.api('/v1/tasks', { body: taskInput(target.url, { async: { timeout: 3600, heartbeat: 60 } }) });
    const [, r2] = await target.waitForRequests(2);
    await waitForTask(a, beaten.body.id, (t) => t.awaiting !== null);
    const hb = await b.api(`/v1/tasks/${beaten.body.id}/heartbeat`, { body: {}, headers: auth(r2!) });
    expect(hb.status).toBe(200);
    expect(((await a.api(`/v1/tasks/${beaten.body.id}`)).body as Task).awaiting).toMatchObject({ deadline: hb.body.deadline });
    // A leaves; its open attempt is nobody's running work: B's recovery and rescue leave it open.
    await a.close(0);
    const again = await startServer({ db, nodeId: 'node-a' });
    expect(((await again.api(`/v1/tasks/${beaten.body.id}`)).body as Task).awaiting).toMatchObject({ attempt: 1 });
    const failed = await b.api(`/v1/tasks/${beaten.body.id}/fail`, { body: { message: 'stop', retry: false }, headers: auth(r2!) });
    expect(failed.body).toMatchObject({ status: 'failed', error: { type: 'async' } });
    const attempts = (await b.api(`/v1/tasks/${beaten.body.id}/attempts`)).body.attempts as Attempt[];
    expect(attempts.map((x) => x.error?.type)).toEqual(['async']);
  });

  it('the deadline of an attempt A accepted is met by B once A is gone', async () => {
    const db = path.join(tempDir(), 'aq.db');
    const target = await startTarget(() => ({ status: 202 }));
    let now = Date.now();
    const clock = { now: () => now };
    const a = await startServer({ db, nodeId: 'node-a', clock });
    const created = await a.api('/v1/tasks', { body: taskInput(target.url, { async: { timeout: 30 }, retries: 0 }) });
    await target.waitForRequests(1);
    await waitForTask(a, created.body.id, (t) => t.awaiting !== null);
    await a.close(0);
    const b = await startServer({ db, nodeId: 'node-b', clock });
    now += 30_000;
    b.scheduler.wake();
    expect(await waitForTerminal(b, created.body.id)).toMatchObject({ status: 'failed', error: { type: 'timeout' } });
  });
});
