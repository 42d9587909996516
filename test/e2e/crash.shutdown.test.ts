// Graceful shutdown of the real binary (api.md §6): SIGTERM lets an attempt in flight finish
// within --shutdown-grace and exits 0; past the grace the attempt is recorded interrupted and
// the task is pending again after a restart.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Attempt, Task } from '../../src/shared/types.js';
import { spawnServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput } from '../helpers/tasks.js';
import { tempDir } from '../helpers/temp.js';

async function call(url: string, pathname: string, method = 'GET', body?: unknown): Promise<any> {
  const res = await fetch(url + pathname, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
  return res.json();
}

describe('graceful shutdown', () => {
  it('SIGTERM lets an attempt in flight finish within the grace, records it completed, and exits 0', async () => {
    const db = path.join(tempDir(), 'aq.db');
    const target = await startTarget(() => ({ status: 200, body: 'finished', delayMs: 500 }));
    const first = await spawnServer(['--db', db, '--shutdown-grace', '10s']);
    const task = (await call(first.url, '/v1/tasks', 'POST', taskInput(target.url))) as Task;
    await target.waitForRequests(1);
    first.proc.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    const second = await spawnServer(['--db', db]);
    expect(await call(second.url, `/v1/tasks/${task.id}`)).toMatchObject({ status: 'completed', attempts: 1, result: 'finished' });
    const attempts = (await call(second.url, `/v1/tasks/${task.id}/attempts`)).attempts as Attempt[];
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ n: 1, status: 200 });
    expect(target.requests).toHaveLength(1);
  });

  it('an attempt still in flight when the grace runs out is recorded interrupted and the task is pending after restart', async () => {
    const db = path.join(tempDir(), 'aq.db');
    let slow = true;
    const target = await startTarget(() => (slow ? { status: 200, delayMs: 5_000 } : { status: 200, body: 'again' }));
    const first = await spawnServer(['--db', db, '--shutdown-grace', '200ms']);
    const task = (await call(first.url, '/v1/tasks', 'POST', taskInput(target.url, { queue: 'q' }))) as Task;
    await target.waitForRequests(1);
    // Pausing stops new dispatches only; it keeps the restarted server from running the task at once.
    await call(first.url, '/v1/queues/q', 'PUT', { paused: true });
    first.proc.kill('SIGTERM');
    expect(await first.exited).toBe(0);

    slow = false;
    const second = await spawnServer(['--db', db]);
    expect(await call(second.url, `/v1/tasks/${task.id}`)).toMatchObject({ status: 'pending', attempts: 1, error: { type: 'interrupted' } });
    const attempts = (await call(second.url, `/v1/tasks/${task.id}/attempts`)).attempts as Attempt[];
    expect(attempts).toEqual([expect.objectContaining({ n: 1, error: expect.objectContaining({ type: 'interrupted' }) })]);
    expect(attempts[0]!.durationMs!).toBeLessThan(5_000);

    await call(second.url, '/v1/queues/q', 'PUT', { paused: false });
    expect(await call(second.url, `/v1/tasks/${task.id}?wait=10`)).toMatchObject({ status: 'completed', attempts: 2, result: 'again' });
  });
});
