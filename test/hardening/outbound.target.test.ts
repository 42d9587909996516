// What a hostile or broken target can do to an attempt: never answer, answer 1 GB, drip bytes,
// reset, redirect, flood headers. Each attempt ends within its timeout with the right error type,
// memory stays bounded, redirects are not followed, and connections per origin stay capped.
import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { createTask, taskInput, waitForTerminal } from '../helpers/tasks.js';
import { startHostileTarget } from './hostile-target.js';

const once = { retries: 0, timeout: 1 };

describe('a hostile target cannot hold an attempt or the server', () => {
  it('a target that accepts the connection and never answers ends the attempt as a timeout', async () => {
    const s = await startServer();
    const target = await startHostileTarget('hang');
    const t = await waitForTerminal(s, (await createTask(s, taskInput(target.url + '/hang', once))).id);
    expect(t).toMatchObject({ status: 'failed', attempts: 1, error: { type: 'timeout', message: `timed out after 1 s: POST ${target.url}/hang` } });
  });

  it('a target that drips one byte at a time past the timeout ends the attempt as a timeout', async () => {
    const s = await startServer();
    const target = await startHostileTarget('drip');
    const t = await waitForTerminal(s, (await createTask(s, taskInput(target.url + '/drip', once))).id);
    expect(t).toMatchObject({ status: 'failed', error: { type: 'timeout' } });
    expect(target.sent).toBeGreaterThan(5); // it was sending all along: the deadline, not a read timeout, ended it
    const attempts = (await s.api(`/v1/tasks/${t.id}/attempts`)).body.attempts;
    expect(attempts).toHaveLength(1);
  });

  it('a target that resets the connection ends the attempt as a network error', async () => {
    const s = await startServer();
    const target = await startHostileTarget('reset');
    const t = await waitForTerminal(s, (await createTask(s, taskInput(target.url + '/reset', once))).id);
    expect(t).toMatchObject({ status: 'failed', error: { type: 'network' } });
    expect(t.error!.message).toMatch(/ECONNRESET|socket|closed/i);
  });

  it('a target that sends headers without end gets a network error, not a hang', async () => {
    const s = await startServer();
    const target = await startHostileTarget('endless-headers');
    const t = await waitForTerminal(s, (await createTask(s, taskInput(target.url + '/h', once))).id);
    expect(t.status).toBe('failed');
    expect(['network', 'timeout']).toContain(t.error!.type);
  });

  it('a 1 GB answer (2xx or error) is read only up to the cap, with memory bounded', async () => {
    const s = await startServer({ maxResult: '64kb' });
    const ok = await startHostileTarget('huge', 200);
    const bad = await startHostileTarget('huge', 500);
    global.gc?.();
    const before = process.memoryUsage().rss;
    const [a, b] = await Promise.all([createTask(s, taskInput(ok.url + '/big', once)), createTask(s, taskInput(bad.url + '/big', once))]);
    const done = await waitForTerminal(s, a.id);
    const failed = await waitForTerminal(s, b.id);
    expect(done.status).toBe('completed');
    expect((done.result as string).length).toBe(64 * 1024);
    expect(failed).toMatchObject({ status: 'failed', error: { type: 'http', status: 500 } });
    expect(failed.error!.message.length).toBeLessThan(400);
    // Both targets stopped being read long before 1 GB (socket buffers allow a few MB at most).
    expect(ok.sent).toBeLessThan(32 * 1024 ** 2);
    expect(bad.sent).toBeLessThan(32 * 1024 ** 2);
    expect(process.memoryUsage().rss - before).toBeLessThan(200 * 1024 ** 2);
  });

  it('redirects are not followed: a 302 is an http error and the Location is never requested', async () => {
    const s = await startServer();
    const target = await startHostileTarget('redirect');
    const t = await waitForTerminal(s, (await createTask(s, taskInput(target.url + '/start', { retries: 1 }))).id);
    expect(t).toMatchObject({ status: 'failed', attempts: 2, error: { type: 'http', status: 302 } });
    expect(target.paths).toEqual(['/start', '/start']);
  });

  it('no more than --max-connections requests reach one origin at once, with concurrency far higher', async () => {
    const s = await startServer({ maxConnectionsPerOrigin: 3, concurrency: 50 });
    const target = await startTarget(() => ({ status: 200, delayMs: 30 }));
    const r = await s.api('/v1/tasks/batch', { body: { tasks: Array.from({ length: 40 }, (_, i) => taskInput(target.url + '/c/' + i)) } });
    expect(r.status).toBe(201);
    for (const t of r.body.tasks) expect((await waitForTerminal(s, t.id)).status).toBe('completed');
    expect(target.requests).toHaveLength(40);
    expect(target.maxInFlight).toBe(3);
  });
});
