// Disk full and read-only database while serving: creates answer 503 unavailable, nothing is
// half-written, and the server recovers by itself once space (or write access) returns.
// Disk full is simulated with SQLite's max_page_count (everywhere) and, where this process may
// mount, with a real 2 MiB tmpfs filled to the last byte.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput, waitForTerminal } from '../helpers/tasks.js';
import { canMount, mountTmpfs } from './mount.js';

const big = (kb: number) => 'x'.repeat(kb * 1024);

async function snapshot(s: TestServer) {
  return { counts: (await s.api('/v1/stats')).body.counts, ids: (await s.api('/v1/tasks?limit=500')).body.tasks.map((t: { id: string }) => t.id) };
}

async function expectRefusedAndUnchanged(s: TestServer, target: string) {
  const before = await snapshot(s);
  for (const r of [
    await s.api('/v1/tasks', { body: taskInput(target, { payload: big(256) }) }),
    await s.api('/v1/tasks/batch', { body: { tasks: [taskInput(target), taskInput(target, { payload: big(256) })] } }),
  ]) {
    expect(r.status, JSON.stringify(r.body)).toBe(503);
    expect(r.body.error.code).toBe('unavailable');
    expect(r.headers.get('retry-after')).toBe('1');
  }
  expect(await snapshot(s)).toEqual(before);
}

describe('disk full and read-only while serving', () => {
  it('when the database may not grow (max_page_count), creates get 503 and the server recovers when it may', async () => {
    const target = await startTarget();
    const s = await startServer();
    const first = (await s.api('/v1/tasks', { body: taskInput(target.url + '/a') })).body;
    expect((await waitForTerminal(s, first.id)).status).toBe('completed');
    const pages = s.store.db.pragma('page_count', { simple: true }) as number;
    s.store.db.pragma(`max_page_count = ${pages}`);
    await expectRefusedAndUnchanged(s, target.url + '/b');
    expect((await s.api('/healthz')).status).toBe(200);
    s.store.db.pragma('max_page_count = 1073741823');
    const after = await s.api('/v1/tasks', { body: taskInput(target.url + '/c', { payload: big(256) }) });
    expect(after.status).toBe(201);
    expect((await waitForTerminal(s, after.body.id)).status).toBe('completed');
    expect(target.requests.map((r) => r.path)).toEqual(['/a', '/c']);
  });

  it('creates sharing a group commit with one that hits the limit are stored exactly when answered 201', async () => {
    const s = await startServer();
    await s.api('/v1/queues/held', { method: 'PUT', body: { paused: true } });
    const pages = s.store.db.pragma('page_count', { simple: true }) as number;
    s.store.db.pragma(`max_page_count = ${pages + 8}`);
    const T = 'http://127.0.0.1:9/held';
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => s.api('/v1/tasks', { body: taskInput(T, { queue: 'held', payload: i % 3 === 0 ? big(64) : { i } }) })),
    );
    const statuses = answers.map((r) => r.status);
    expect(statuses.every((st) => st === 201 || st === 503), statuses.join()).toBe(true);
    expect(statuses).toContain(503);
    const created = answers.filter((r) => r.status === 201).map((r) => r.body.id).sort();
    const stored = (await s.api('/v1/tasks?limit=500')).body.tasks.map((t: { id: string }) => t.id).sort();
    expect(stored).toEqual(created);
    s.store.db.pragma('max_page_count = 1073741823');
  });

  it('when the database turns read-only, creates get 503 and nothing changes until it is writable again', async () => {
    const target = await startTarget();
    const s = await startServer();
    s.store.db.pragma('query_only = ON');
    await expectRefusedAndUnchanged(s, target.url + '/ro');
    s.store.db.pragma('query_only = OFF');
    const r = await s.api('/v1/tasks', { body: taskInput(target.url + '/rw') });
    expect(r.status).toBe(201);
    expect((await waitForTerminal(s, r.body.id)).status).toBe('completed');
  });

  it.skipIf(!canMount())('on a real filesystem that fills up, creates get 503 and work resumes once space is freed', async () => {
    const mnt = mountTmpfs('2m');
    const target = await startTarget();
    const s = await startServer({ db: path.join(mnt, 'aq.db') });
    onTestFinished(() => s.close(0)); // closed before the unmount (hooks run in reverse)
    const first = (await s.api('/v1/tasks', { body: taskInput(target.url + '/a') })).body;
    expect((await waitForTerminal(s, first.id)).status).toBe('completed');
    // Fill the filesystem to the last byte.
    const filler = path.join(mnt, 'filler');
    const fd = fs.openSync(filler, 'w');
    try {
      for (;;) fs.writeSync(fd, Buffer.alloc(4096));
    } catch (err) {
      expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
    } finally {
      fs.closeSync(fd);
    }
    await expectRefusedAndUnchanged(s, target.url + '/b');
    expect((await s.api('/healthz')).status).toBe(200);
    fs.rmSync(filler);
    const r = await s.api('/v1/tasks', { body: taskInput(target.url + '/c') });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    expect((await waitForTerminal(s, r.body.id)).status).toBe('completed');
    expect(target.requests.map((x) => x.path)).toEqual(['/a', '/c']);
  });
});
