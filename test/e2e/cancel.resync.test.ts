// api.md §9: a cancel committed by another node while this node's listening connection was down
// sends this node no event. When the connection comes back (a resync), the scheduler re-reads
// the tasks it runs and aborts the request of one that is no longer its attempt. PostgreSQL only:
// the cancel here is a plain UPDATE from another connection, as another node's would be, with no
// second node registered (so no NOTIFY is sent at all).
import { describe, expect, it } from 'vitest';
import { pgQuery, testStore } from '../helpers/postgres.js';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { createTask, taskInput, waitForTask } from '../helpers/tasks.js';

describe.skipIf(testStore !== 'postgres')('a cancel whose event this node missed', () => {
  it('aborts the running request at the resync, and leaves a task still running its attempt alone', async () => {
    const server = await startServer();
    const target = await startTarget(() => ({ hang: true }));
    const [gone, kept] = [await createTask(server, taskInput(target.url, { timeout: 600 })), await createTask(server, taskInput(target.url, { timeout: 600 }))];
    await target.waitForRequests(2);
    for (const t of [gone!, kept!]) await waitForTask(server, t.id, (x) => x.status === 'running');

    await pgQuery(server.config.db, `UPDATE tasks SET status = 'cancelled', updated_at = updated_at + 1, completed_at = updated_at + 1 WHERE id = $1`, [gone!.id]);
    expect(target.requests.filter((r) => r.aborted)).toHaveLength(0);
    server.events.resync();
    await target.waitForAborted(1);
    const aborted = target.requests.filter((r) => r.aborted);
    expect(aborted.map((r) => r.headers['aq-task-id'])).toEqual([gone!.id]);
    expect((await server.api(`/v1/tasks/${kept!.id}`)).body.status).toBe('running');
    await expect.poll(() => server.scheduler.inFlight).toBe(1);
  });
});
