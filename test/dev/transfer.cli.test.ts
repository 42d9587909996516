// Backup, export and import (api.md §15) through the real CLI against real servers: export →
// import keeps every task, attempt, state and id, twice without duplicates; a malformed line
// is reported by number with only whole batches before it imported; a backup taken under
// load is a consistent database holding every task acknowledged before it.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { createServer } from '../../src/server.js';
import { silentLogger } from '../../src/log.js';
import type { Batch, Task } from '../../src/shared/types.js';
import { startServer, testStore, type TestServer } from '../helpers/server.js';
import { startTarget, type Respond, type Target } from '../helpers/target.js';
import { waitForTask, waitForTerminal } from '../helpers/tasks.js';
import { tempDir } from '../helpers/temp.js';

/** Tasks in every state: completed after a retry, failed, cancelled, pending in the future, with a webhook. */
async function seed(server: TestServer) {
  let calls = 0;
  const target = await startTarget((req) => (req.path === '/flaky' && ++calls === 1 ? { status: 503 } : req.path === '/bad' ? { status: 422, headers: { 'aq-no-retry': 'true' } } : { status: 200, body: { ok: req.path } }));
  const ids: string[] = [];
  const make = async (body: Record<string, unknown>) => {
    const r = await server.api('/v1/tasks', { body });
    expect(r.status).toBe(201);
    ids.push(r.body.id);
    return r.body.id as string;
  };
  const flaky = await make({ targetUrl: `${target.url}/flaky`, payload: { a: 1 }, labels: ['x'], backoff: { initial: 0.01, factor: 1, max: 1 }, webhookUrl: `${target.url}/hook` });
  const bad = await make({ targetUrl: `${target.url}/bad`, queue: 'other', idempotencyKey: 'idem-1' });
  const later = await make({ targetUrl: `${target.url}/later`, delay: 3600, priority: 5, headers: { 'x-key': 'v' } });
  await waitForTerminal(server, flaky);
  await waitForTerminal(server, bad);
  const cancelled = await make({ targetUrl: `${target.url}/c`, delay: 3600 });
  expect((await server.api(`/v1/tasks/${cancelled}/cancel`, { method: 'POST' })).status).toBe(200);
  await waitForTerminal(server, flaky);
  return { ids, later };
}

async function snapshot(server: TestServer, ids: string[]) {
  return Promise.all(
    ids.map(async (id) => {
      const t = (await server.api(`/v1/tasks/${id}`)).body;
      const a = (await server.api(`/v1/tasks/${id}/attempts`)).body.attempts;
      // `waiting` says what holds a task on this server now (api.md §11), not data that moves.
      const { updatedAt: _u, webhook, waiting: _w, ...task } = t;
      return { task: { ...task, webhookStatus: webhook?.status ?? null }, attempts: a };
    }),
  );
}

describe('asyncqueue export / import', () => {
  it('moves every task with its attempts, states and ids to another server, and a second import adds nothing', async () => {
    const source = await startServer();
    const { ids } = await seed(source);
    const dir = tempDir();
    const file = path.join(dir, 'tasks.jsonl');
    const exported = await runCli(['export', '--url', source.url]);
    expect(exported.code, exported.stderr).toBe(0);
    fs.writeFileSync(file, exported.stdout);
    const lines = exported.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.task.id).sort()).toEqual([...ids].sort());
    expect(lines.find((l) => l.task.id === ids[0]).attempts).toHaveLength(2);

    const dest = await startServer({ concurrency: 1 });
    await dest.api('/v1/queues/default', { method: 'PUT', body: { paused: true } });
    const first = await runCli(['import', file, '--url', dest.url, '--json']);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ imported: ids.length, skipped: 0 });
    expect(await snapshot(dest, ids)).toEqual(await snapshot(source, ids));
    const again = await runCli(['import', '-', '--url', dest.url, '--json'], { input: exported.stdout });
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: 0, skipped: ids.length });
    // The queues' counts moved with the imported states (kept by the writes, not recounted).
    const queues = (await dest.api('/v1/queues')).body.queues as { counts: Record<string, number> }[];
    const byState: Record<string, number> = {};
    for (const q of queues) for (const [k, n] of Object.entries(q.counts)) byState[k] = (byState[k] ?? 0) + n;
    expect(byState).toMatchObject({ pending: 1, running: 0, completed: 1, failed: 1, cancelled: 1 });
    const list = (await dest.api('/v1/tasks?limit=500')).body.tasks;
    expect(list).toHaveLength(ids.length);
    const filtered = await runCli(['export', '--status', 'failed', '--url', dest.url]);
    expect(filtered.stdout.trim().split('\n').map((l) => JSON.parse(l).task.status)).toEqual(['failed']);
  });

  it('stops at a malformed line with its number: earlier whole batches imported, nothing of its batch', async () => {
    const source = await startServer();
    const created = await source.api('/v1/tasks', { body: { targetUrl: 'http://127.0.0.1:9/x', delay: 3600 } });
    const one = (await runCli(['export', '--url', source.url])).stdout.trim();
    const template = JSON.parse(one);
    expect(template.task.id).toBe(created.body.id);
    const lines: string[] = [];
    for (let i = 0; i < 1200; i++) lines.push(JSON.stringify({ ...template, task: { ...template.task, id: `tsk_import_${String(i).padStart(5, '0')}` } }));
    lines.splice(1100, 0, '{"task": {"id": "tsk_broken"}, "attempts": [');
    const dir = tempDir();
    const file = path.join(dir, 'bad.jsonl');
    fs.writeFileSync(file, lines.join('\n') + '\n');
    const dest = await startServer();
    await dest.api('/v1/queues/default', { method: 'PUT', body: { paused: true } });
    const r = await runCli(['import', file, '--url', dest.url]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/line 1101: not valid JSON/);
    // Batches are cut at 1,000 lines or 512 KiB: the lines before the bad line's batch are in, none after.
    const m = /— ([\d,]+) tasks before line (\d+) were imported/.exec(r.stderr);
    expect(m).not.toBeNull();
    const kept = Number(m![1]!.replace(/,/g, ''));
    expect(Number(m![2])).toBe(kept + 1);
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(1100);
    expect((await dest.api('/v1/queues')).body.queues.find((q: { name: string }) => q.name === 'default').counts.pending).toBe(kept);
    expect((await dest.api(`/v1/tasks/tsk_import_${String(kept - 1).padStart(5, '0')}`)).status).toBe(200);
    expect((await dest.api(`/v1/tasks/tsk_import_${String(kept).padStart(5, '0')}`)).status).toBe(404);

    const invalid = path.join(dir, 'invalid.jsonl');
    fs.writeFileSync(invalid, [lines[0], JSON.stringify({ ...template, task: { ...template.task, id: 'tsk_ok2', status: 'bogus' } })].join('\n'));
    const refused = await runCli(['import', invalid, '--url', dest.url]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: line 2: /);
    expect(refused.stderr).toMatch(/nothing was imported/);
    expect((await dest.api('/v1/tasks/tsk_ok2')).status).toBe(404);
    const shape = path.join(dir, 'shape.jsonl');
    fs.writeFileSync(shape, '{"id": "x"}\n');
    expect((await runCli(['import', shape, '--url', dest.url])).stderr).toMatch(/line 1: missing "task"/);
    expect((await runCli(['import', path.join(dir, 'nope.jsonl'), '--url', dest.url])).stderr).toMatch(/cannot read .*ENOENT/);
  });
});

describe('asyncqueue export / import across stores', () => {
  it.runIf(testStore === 'postgres')('moves a SQLite server’s tasks into PostgreSQL with ids, states and attempts', async () => {
    const dir = tempDir();
    const source = await createServer({ db: path.join(dir, 'source.db'), port: 0, logger: silentLogger });
    try {
      const api = (p: string, body?: unknown) =>
        fetch(source.url + p, body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then((r) => r.json());
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push((await api('/v1/tasks', { targetUrl: 'http://127.0.0.1:9/x', delay: 3600, payload: { i }, labels: ['moved'] })).id);
      await api(`/v1/tasks/${ids[0]}/cancel`, {});
      const exported = await runCli(['export', '--url', source.url]);
      expect(exported.code, exported.stderr).toBe(0);
      const dest = await startServer();
      expect(dest.config.db).toMatch(/^postgres/);
      const r = await runCli(['import', '-', '--url', dest.url, '--json'], { input: exported.stdout });
      expect(JSON.parse(r.stdout)).toMatchObject({ imported: 5, skipped: 0 });
      for (const id of ids) {
        const a = await api(`/v1/tasks/${id}`);
        const b = (await dest.api(`/v1/tasks/${id}`)).body;
        expect({ ...b, updatedAt: undefined }).toEqual({ ...a, updatedAt: undefined });
      }
      expect(JSON.parse((await runCli(['import', '-', '--url', dest.url, '--json'], { input: exported.stdout })).stdout)).toMatchObject({ imported: 0, skipped: 5 });
      expect((await dest.api('/v1/tasks?label=moved')).body.tasks).toHaveLength(5);
      const backup = await runCli(['backup', path.join(dir, 'pg.db'), '--url', dest.url]);
      expect(backup.code).toBe(1);
      expect(backup.stderr).toMatch(/PostgreSQL.*pg_dump/);
    } finally {
      await source.close(0);
    }
  });
});

/** A server on a SQLite file in either project (a move starts from a SQLite file), with the `api` of startServer. */
async function sqliteServer(): Promise<TestServer & { closed: Promise<void> | undefined }> {
  const server = await createServer({ db: path.join(tempDir(), 'source.db'), port: 0, logger: silentLogger, shutdownGrace: 2000 });
  const api: TestServer['api'] = async (pathname, init = {}) => {
    const body = init.body === undefined ? undefined : JSON.stringify(init.body);
    const res = await fetch(server.url + pathname, { method: init.method ?? (body !== undefined ? 'POST' : 'GET'), headers: body ? { 'content-type': 'application/json' } : {}, body });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  };
  const s = Object.assign(server, { dir: '', api, closed: undefined as Promise<void> | undefined });
  onTestFinished(() => s.closed ?? server.close(0));
  return s as unknown as TestServer & { closed: Promise<void> | undefined };
}

/** The batch once `check` passes: re-read on every task event, with a 50 ms backstop for what has none (its webhook's state). */
/**
 * A target whose first `/hold` request is held until `release()` (or the test's end) and then
 * answers 503, so its task is still running when the source is exported; `other` answers the rest.
 */
async function holdFirstTarget(other: Respond): Promise<{ target: Target; release: () => void }> {
  let holds = 0;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  onTestFinished(() => release());
  const target = await startTarget(async (req, index) => {
    if (req.path === '/hold' && ++holds === 1) {
      await held;
      return { status: 503 };
    }
    return other(req, index);
  });
  return { target, release };
}

async function waitBatch(server: TestServer, id: string, check: (b: Batch) => boolean): Promise<Batch> {
  let wake: () => void = () => {};
  const off = server.events.on(() => wake());
  try {
    for (;;) {
      const r = await server.api(`/v1/batches/${id}`);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      if (check(r.body)) return r.body as Batch;
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 50);
      });
    }
  } finally {
    off();
  }
}

describe('asyncqueue export / import of batches and chains', () => {
  it('moves a half-done batch, a delivered one and chains in flight from SQLite; the work ends on the new server as it would have', { timeout: 120_000 }, async () => {
    // /hold: the first request is held until the source is gone (the chain's head is running at
    // the export); /fail fails for good; anything else answers 200 with what it got.
    const { target, release } = await holdFirstTarget((req) =>
      req.path === '/fail' ? { status: 422, headers: { 'aq-no-retry': 'true' } } : { status: 200, body: { at: req.path, got: req.json } });
    const hook = await startTarget();
    const source = await sqliteServer();
    expect((await source.api('/v1/queues/slow', { method: 'PUT', body: { paused: true } })).status).toBe(200);

    // b1: half done (one completed, one failed; two pending in the paused queue), with a webhook.
    const b1r = await source.api('/v1/tasks/batch', {
      body: {
        tasks: [
          { targetUrl: `${target.url}/ok`, queue: 'fast', payload: 1 },
          { targetUrl: `${target.url}/fail`, queue: 'fast', retries: 0 },
          { targetUrl: `${target.url}/ok`, queue: 'slow', payload: 3, concurrencyKey: 'tenant-a' },
          { targetUrl: `${target.url}/ok`, queue: 'slow', payload: 4 },
        ],
        batch: { webhookUrl: `${hook.url}/b1`, labels: ['move', 'half'] },
      },
    });
    expect(b1r.status, JSON.stringify(b1r.body)).toBe(201);
    const b1 = b1r.body.batchId as string;
    const b1Tasks = (b1r.body.tasks as Task[]).map((t) => t.id);
    // b2: done, its batch.done delivered on the source: it must not be sent again.
    const b2r = await source.api('/v1/tasks/batch', { body: { tasks: [{ targetUrl: `${target.url}/ok`, queue: 'fast' }, { targetUrl: `${target.url}/ok`, queue: 'fast' }], batch: { webhookUrl: `${hook.url}/b2` } } });
    const b2 = b2r.body.batchId as string;
    const b2Tasks = (b2r.body.tasks as Task[]).map((t) => t.id);
    for (const id of [b1Tasks[0]!, b1Tasks[1]!, ...b2Tasks]) await waitForTerminal(source, id);
    const b2Source = await waitBatch(source, b2, (b) => b.webhook?.status === 'delivered');
    expect(b2Source).toMatchObject({ done: true, counts: { completed: 2 } });
    expect(hook.requests.map((r) => r.headers['aq-batch-id'])).toEqual([b2]);

    // A chain whose head is running at the export (its then/onFailure steps not created yet) …
    const head = await source.api('/v1/tasks', {
      body: {
        targetUrl: `${target.url}/hold`, queue: 'chain', payload: { step: 0 }, concurrencyKey: 'tenant-b',
        then: { targetUrl: `${target.url}/ok`, queue: 'chain', labels: ['step-1'], then: { targetUrl: `${target.url}/ok`, queue: 'chain', payload: { step: 2 } } },
        onFailure: { targetUrl: `${target.url}/on-failure`, queue: 'chain' },
      },
    });
    expect(head.status, JSON.stringify(head.body)).toBe(201);
    const a = head.body.id as string;
    await waitForTask(source, a, (t) => t.status === 'running');
    // … and one whose first task ended: its step was created (pending in the paused queue), with a step of its own still to come.
    const first = await source.api('/v1/tasks', { body: { targetUrl: `${target.url}/ok`, queue: 'fast', payload: 'b', then: { targetUrl: `${target.url}/ok`, queue: 'slow', then: { targetUrl: `${target.url}/ok`, queue: 'fast', payload: 'd' } } } });
    const b = first.body.id as string;
    const bDone = await waitForTask(source, b, (t) => t.nextTaskId !== null);
    const c = bDone.nextTaskId!;

    const b1Source = (await source.api(`/v1/batches/${b1}`)).body as Batch;
    expect(b1Source).toMatchObject({ total: 4, counts: { pending: 2, running: 0, completed: 1, failed: 1, cancelled: 0 }, done: false, labels: ['move', 'half'] });
    const ids = [...b1Tasks, ...b2Tasks, a, b, c];
    const before = await snapshot(source, ids);

    const exported = await runCli(['export', '--url', source.url]);
    expect(exported.code, exported.stderr).toBe(0);
    const lines = exported.stdout.trim().split('\n');
    const parsed = lines.map((l) => JSON.parse(l));
    expect(parsed.map((l) => l.task.id).sort()).toEqual([...ids].sort());
    const lineOf = (id: string) => parsed.find((l) => l.task.id === id);
    expect(lineOf(b1Tasks[2]!).batch).toMatchObject({ id: b1, total: 4, webhookUrl: `${hook.url}/b1`, labels: ['move', 'half'] });
    expect(lineOf(a).chain).toMatchObject({ then: { targetUrl: `${target.url}/ok`, then: { payload: { step: 2 } } }, onFailure: { targetUrl: `${target.url}/on-failure` } });
    expect(lineOf(c).chain).toMatchObject({ then: { payload: 'd' } });
    expect(lineOf(a).batch).toBeUndefined();
    source.closed = source.close(0);
    await source.closed;
    release();

    // Into another server (SQLite, or PostgreSQL in the postgres project), its queues paused so
    // nothing moves while the copy is compared; in two calls that split b1's members.
    const dest = await startServer();
    for (const q of ['fast', 'slow', 'chain']) expect((await dest.api(`/v1/queues/${q}`, { method: 'PUT', body: { paused: true } })).status).toBe(200);
    const dir = tempDir();
    const parts = [lines.filter((_, i) => i % 2 === 0), lines.filter((_, i) => i % 2 === 1)];
    let imported = 0;
    for (const [i, part] of parts.entries()) {
      const file = path.join(dir, `part-${i}.jsonl`);
      fs.writeFileSync(file, part.join('\n') + '\n');
      const r = await runCli(['import', file, '--url', dest.url, '--json']);
      expect(r.code, r.stderr).toBe(0);
      imported += JSON.parse(r.stdout).imported;
    }
    expect(imported).toBe(ids.length);
    const again = await runCli(['import', '-', '--url', dest.url, '--json'], { input: exported.stdout });
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: 0, skipped: ids.length });

    // The batches as they were; the tasks with their links, keys and steps (the running head pending again).
    expect((await dest.api(`/v1/batches/${b1}`)).body).toEqual(b1Source);
    expect((await dest.api(`/v1/batches/${b2}`)).body).toEqual(b2Source);
    const after = await snapshot(dest, ids);
    const headAt = ids.indexOf(a);
    expect(after.filter((_, i) => i !== headAt)).toEqual(before.filter((_, i) => i !== headAt));
    expect(after[headAt]!.task).toMatchObject({ ...before[headAt]!.task, status: 'pending', error: { type: 'interrupted' }, runAt: expect.any(String), concurrencyKey: 'tenant-b', nextTaskId: null });
    const reexported = (await runCli(['export', '--url', dest.url])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    for (const l of reexported) {
      expect(l.chain, l.task.id).toEqual(lineOf(l.task.id).chain);
      expect(l.batch, l.task.id).toEqual(lineOf(l.task.id).batch);
      expect(l.outcomes, l.task.id).toBe(lineOf(l.task.id).outcomes);
    }

    // The work ends on the new server: b1 done once, its webhook sent once (b2's not again) …
    for (const q of ['fast', 'slow', 'chain']) await dest.api(`/v1/queues/${q}`, { method: 'PUT', body: { paused: false } });
    const b1Done = await waitBatch(dest, b1, (x) => x.done && x.webhook?.status === 'delivered');
    expect(b1Done).toMatchObject({ total: 4, counts: { pending: 0, running: 0, completed: 3, failed: 1, cancelled: 0 }, webhook: { status: 'delivered', attempts: 1 } });
    const b1Hooks = hook.requests.filter((r) => r.headers['aq-batch-id'] === b1);
    expect(b1Hooks).toHaveLength(1);
    expect(b1Hooks[0]!.headers['webhook-id']).toBe(`${b1}.1`);
    expect(b1Hooks[0]!.json).toMatchObject({ type: 'batch.done', batch: { id: b1, total: 4, counts: { completed: 3, failed: 1 }, labels: ['move', 'half'] } });
    expect(hook.requests.filter((r) => r.headers['aq-batch-id'] === b2)).toHaveLength(1);
    expect((await dest.api(`/v1/batches/${b2}`)).body).toEqual(b2Source);

    // … the running head's `then` is created when it completes there, and its own step after it …
    const headDone = await waitForTask(dest, a, (t) => t.nextTaskId !== null);
    expect(headDone).toMatchObject({ status: 'completed', result: { at: '/hold', got: { step: 0 } } });
    const step1 = await waitForTask(dest, headDone.nextTaskId!, (t) => t.nextTaskId !== null);
    expect(step1).toMatchObject({ status: 'completed', parentId: a, labels: ['step-1'], payload: { at: '/hold', got: { step: 0 } } });
    const step2 = await waitForTerminal(dest, step1.nextTaskId!);
    expect(step2).toMatchObject({ status: 'completed', parentId: step1.id, payload: { step: 2 }, result: { got: { step: 2 } } });
    // … and the step created on the source runs and creates its own.
    const cDone = await waitForTask(dest, c, (t) => t.nextTaskId !== null);
    expect(cDone).toMatchObject({ status: 'completed', parentId: b });
    expect(await waitForTerminal(dest, cDone.nextTaskId!)).toMatchObject({ status: 'completed', parentId: c, payload: 'd' });
    expect(target.requests.filter((r) => r.path === '/on-failure')).toEqual([]);
  });
});

describe('asyncqueue export / import of batches in other states', () => {
  it('a done batch whose batch.done was still failing is sent once by the new server; a running member is pending again; a member removed there comes back counted', { timeout: 120_000 }, async () => {
    let hookUp = false;
    const hook = await startTarget(() => (hookUp ? { status: 200 } : { status: 503 }));
    const { target, release } = await holdFirstTarget(() => ({ status: 200, body: { ok: true } }));
    const source = await sqliteServer();
    await source.api('/v1/queues/slow', { method: 'PUT', body: { paused: true } });
    const done = await source.api('/v1/tasks/batch', { body: { tasks: [{ targetUrl: `${target.url}/ok`, queue: 'fast' }], batch: { webhookUrl: `${hook.url}/done` } } });
    const bd = done.body.batchId as string;
    const bdSource = await waitBatch(source, bd, (b) => b.done && (b.webhook?.attempts ?? 0) >= 1);
    expect(bdSource.webhook).toMatchObject({ status: 'pending', error: { type: 'http', status: 503 } });
    const run = await source.api('/v1/tasks/batch', {
      body: { tasks: [{ targetUrl: `${target.url}/hold`, queue: 'hq' }, { targetUrl: `${target.url}/ok`, queue: 'slow' }, { targetUrl: `${target.url}/ok`, queue: 'slow' }], batch: { webhookUrl: `${hook.url}/run` } },
    });
    const br = run.body.batchId as string;
    const members = (run.body.tasks as Task[]).map((t) => t.id);
    await waitForTask(source, members[0]!, (t) => t.status === 'running');
    expect((await source.api(`/v1/batches/${br}`)).body.counts).toEqual({ pending: 2, running: 1, completed: 0, failed: 0, cancelled: 0 });
    const exported = await runCli(['export', '--url', source.url]);
    expect(exported.code, exported.stderr).toBe(0);
    source.closed = source.close(0);
    await source.closed;
    release();
    const fromSource = hook.requests.length;
    hookUp = true;

    const dest = await startServer();
    for (const q of ['hq', 'slow']) await dest.api(`/v1/queues/${q}`, { method: 'PUT', body: { paused: true } });
    const r = await runCli(['import', '-', '--url', dest.url, '--json'], { input: exported.stdout });
    expect(JSON.parse(r.stdout), r.stderr).toMatchObject({ imported: 4, skipped: 0 });
    // The pending batch.done goes out once, with the same webhook-id (<batch id>.1) and the counts it was done with.
    const bdDest = await waitBatch(dest, bd, (b) => b.webhook?.status === 'delivered');
    expect(bdDest).toMatchObject({ done: true, doneAt: bdSource.doneAt, counts: bdSource.counts });
    const sent = hook.requests.slice(fromSource).filter((q) => q.headers['aq-batch-id'] === bd);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.headers['webhook-id']).toBe(`${bd}.1`);
    expect(sent[0]!.json).toMatchObject({ type: 'batch.done', batch: { id: bd, total: 1, counts: { completed: 1 }, doneAt: bdSource.doneAt } });
    // The running member is pending again, and counted so.
    expect((await dest.api(`/v1/batches/${br}`)).body).toMatchObject({ total: 3, counts: { pending: 3, running: 0 }, done: false });
    // A member removed on the new server comes back with a repeated import, counted once.
    expect((await dest.api(`/v1/tasks/${members[2]}`, { method: 'DELETE' })).status).toBe(204);
    expect((await dest.api(`/v1/batches/${br}`)).body).toMatchObject({ total: 2, counts: { pending: 2 } });
    const again = await runCli(['import', '-', '--url', dest.url, '--json'], { input: exported.stdout });
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: 1, skipped: 3 });
    expect((await dest.api(`/v1/batches/${br}`)).body).toMatchObject({ total: 3, counts: { pending: 3, running: 0, completed: 0 }, done: false });
    // Its work ends there: done once, one batch.done.
    for (const q of ['hq', 'slow']) await dest.api(`/v1/queues/${q}`, { method: 'PUT', body: { paused: false } });
    const brDone = await waitBatch(dest, br, (b) => b.webhook?.status === 'delivered');
    expect(brDone).toMatchObject({ total: 3, counts: { pending: 0, running: 0, completed: 3 }, done: true });
    const runHooks = hook.requests.filter((q) => q.headers['aq-batch-id'] === br);
    expect(runHooks.map((q) => q.headers['webhook-id'])).toEqual([`${br}.1`]);
    expect(hook.requests.slice(fromSource).filter((q) => q.headers['aq-batch-id'] === bd)).toHaveLength(1);
  });
});

describe('asyncqueue export / import of QStash messages', () => {
  it('moves a /v2 message with its callbacks, retry delay, flow control and forwarded headers as it was', async () => {
    const source = await startServer();
    const res = await fetch(`${source.url}/v2/publish/http://127.0.0.1:9/q?x=1`, {
      method: 'POST',
      headers: {
        'content-type': 'text/plain', 'upstash-delay': '1h', 'upstash-retries': '2', 'upstash-retry-delay': 'pow(2, retried) * 1000',
        'upstash-callback': 'http://127.0.0.1:9/cb', 'upstash-failure-callback': 'http://127.0.0.1:9/fcb', 'upstash-forward-x-tenant': 't-1',
        'upstash-flow-control-key': 'fk', 'upstash-flow-control-value': 'parallelism=2, rate=5, period=1m',
      },
      body: 'hello',
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const { messageId } = (await res.json()) as { messageId: string };
    const exported = (await (await fetch(`${source.url}/v1/export`)).text()).trim();
    const line = JSON.parse(exported);
    expect(line.task).toMatchObject({ id: messageId, qstash: { kind: 'message', callback: 'http://127.0.0.1:9/cb', flowControl: { key: 'fk', parallelism: 2 } } });
    const dest = await startServer();
    const r = await dest.api('/v1/import', { body: { items: [line] } });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const strip = ({ updatedAt: _u, waiting: _w, ...t }: Task) => t;
    expect(strip((await dest.api(`/v1/tasks/${messageId}`)).body)).toEqual(strip((await source.api(`/v1/tasks/${messageId}`)).body));
  });
});

describe.runIf(testStore === 'sqlite')('asyncqueue backup', () => {
  it('copies a database under steady load: consistent, holding every task acknowledged before it', async () => {
    const server = await startServer();
    const target = await startTarget(() => ({ status: 200, body: { ok: true } }));
    const acked: string[] = [];
    let stop = false;
    const load = (async () => {
      for (let i = 0; !stop && i < 5000; i++) {
        const r = await server.api('/v1/tasks', { body: { targetUrl: `${target.url}/w`, payload: { i } } });
        if (r.status === 201) acked.push(r.body.id);
      }
    })();
    while (acked.length < 50) await new Promise((r) => setImmediate(r));
    const before = [...acked];
    const dir = tempDir();
    const file = path.join(dir, 'copy.db');
    const r = await runCli(['backup', file, '--url', server.url]);
    stop = true;
    await load;
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/backup written to .*copy\.db/);
    const copy = new Database(file, { readonly: true });
    try {
      expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
      const have = new Set((copy.prepare('SELECT id FROM tasks').pluck().all() as string[]));
      expect(before.filter((id) => !have.has(id))).toEqual([]);
      const counted = copy.prepare("SELECT COALESCE(SUM(n), 0) FROM counts").pluck().get() as number;
      expect(counted).toBe(have.size);
    } finally {
      copy.close();
    }
    expect((await runCli(['backup', file, '--url', server.url])).stderr).toMatch(/exists; pass --force/);
    expect((await runCli(['backup', file, '--force', '--url', server.url])).code).toBe(0);
    expect(fs.readdirSync(dir).filter((f) => f.includes('.partial-'))).toEqual([]);
  });
});

describe('import and export routes', () => {
  it('refuse malformed input with the documented 400 and write nothing', async () => {
    const server = await startServer();
    const bad = [
      [{}, 'items'],
      [{ items: [] }, 'items'],
      [{ items: [{ task: { id: 'tsk_1' }, attempts: [] }] }, 'items.0.task'],
      [{ items: [{ task: null, attempts: [] }] }, 'items.0.task'],
      [{ items: Array.from({ length: 1001 }, () => ({ task: {}, attempts: [] })) }, 'items'],
    ] as const;
    for (const [body, where] of bad) {
      const r = await server.api('/v1/import', { body });
      expect(r.status).toBe(400);
      expect(r.body.error.code).toBe('invalid_request');
      expect(r.body.error.message).toContain(where);
    }
    expect((await server.api('/v1/export?status=bogus')).status).toBe(400);
    expect((await server.api('/v1/import', { raw: '{"items": [', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await server.api('/v1/tasks')).body.tasks).toEqual([]);
    const blocked = await startServer({ blockPrivateTargets: true });
    const created = await server.api('/v1/tasks', { body: { targetUrl: 'http://127.0.0.1:9/x', delay: 60 } });
    const line = JSON.parse((await (await fetch(`${server.url}/v1/export`)).text()).trim());
    expect(line.task.id).toBe(created.body.id);
    const refused = await blocked.api('/v1/import', { body: { items: [line] } });
    expect(refused.status).toBe(400);
    expect(refused.body.error.message).toMatch(/items\.0\.task/);
  });

  it('refuse malformed, oversized and hostile keys, links, chains and batches with a 400 naming the field, storing nothing', async () => {
    const source = await startServer();
    await source.api('/v1/queues/held', { method: 'PUT', body: { paused: true } });
    const created = await source.api('/v1/tasks/batch', {
      body: { tasks: [{ targetUrl: 'http://127.0.0.1:9/x', queue: 'held', concurrencyKey: 'k', then: { targetUrl: 'http://127.0.0.1:9/y' } }], batch: { webhookUrl: 'http://127.0.0.1:9/hook', labels: ['l'] } },
    });
    expect(created.status).toBe(201);
    const line = JSON.parse((await (await fetch(`${source.url}/v1/export`)).text()).trim());
    expect(line).toMatchObject({ task: { concurrencyKey: 'k', batchId: created.body.batchId }, chain: { then: { targetUrl: 'http://127.0.0.1:9/y' } }, batch: { id: created.body.batchId, total: 1 } });
    const dest = await startServer();
    const nest = (levels: number): Record<string, unknown> => (levels === 0 ? { targetUrl: 'http://127.0.0.1:9/z' } : { targetUrl: 'http://127.0.0.1:9/z', then: nest(levels - 1) });
    const deep: unknown[] = [];
    let inner = deep;
    for (let i = 0; i < 200; i++) inner.push((inner = []));
    const task = (patch: Record<string, unknown>) => ({ ...line, task: { ...line.task, ...patch } });
    const cases: [unknown, string][] = [
      [task({ concurrencyKey: '' }), 'items.0.task.concurrencyKey'],
      [task({ concurrencyKey: 'k'.repeat(201) }), 'items.0.task.concurrencyKey'],
      [task({ concurrencyKey: 'a\u0000b' }), 'items.0.task.concurrencyKey'],
      [task({ batchId: 42 }), 'items.0.task.batchId'],
      [task({ parentId: '../../etc' }), 'items.0.task.parentId'],
      [task({ nextTaskId: 'x'.repeat(65) }), 'items.0.task.nextTaskId'],
      [task({ async: { timeout: 0, heartbeat: null } }), 'items.0.task.async.timeout'],
      [task({ async: { timeout: 10, heartbeat: 'soon' } }), 'items.0.task.async.heartbeat'],
      [task({ qstash: { kind: 'evil' } }), 'items.0.task.qstash'],
      [task({ targetUrl: 'file:///etc/passwd' }), 'items.0.task.targetUrl'],
      [task({ headers: { 'bad\nname': 'v' } }), 'items.0.task.headers'],
      [task({ payload: deep }), 'items.0.task.payload'],
      [{ ...line, chain: 'then' }, 'items.0.chain'],
      [{ ...line, chain: {} }, 'items.0.chain'],
      [{ ...line, chain: { then: { targetUrl: 'javascript:alert(1)' } } }, 'items.0.chain.then.targetUrl'],
      [{ ...line, chain: { then: { targetUrl: 'http://127.0.0.1:9/y', idempotencyKey: 'k' } } }, 'items.0.chain.then.idempotencyKey'],
      [{ ...line, chain: { then: { targetUrl: 'http://127.0.0.1:9/y', extra: 1 } } }, 'items.0.chain.then'],
      [{ ...line, chain: nest(11) }, 'items.0.chain'],
      [{ ...line, chain: { onFailure: { targetUrl: 'http://127.0.0.1:9/y', payload: deep } } }, 'items.0.chain.onFailure.payload'],
      [{ ...line, outcomes: -1 }, 'items.0.outcomes'],
      [{ ...line, batch: 'bat' }, 'items.0.batch'],
      [{ ...line, batch: { ...line.batch, id: 'bat_other' } }, 'items.0.batch.id'],
      [{ ...task({ batchId: null }) }, 'items.0.batch.id'],
      [{ ...line, batch: { ...line.batch, total: -1 } }, 'items.0.batch.total'],
      [{ ...line, batch: { ...line.batch, total: 1_000_000 } }, 'items.0.batch.total'],
      [{ ...line, batch: { ...line.batch, total: 5 } }, 'items.0.batch.counts'],
      [{ ...line, batch: { ...line.batch, done: true } }, 'items.0.batch'],
      [{ ...line, batch: { ...line.batch, labels: Array.from({ length: 11 }, (_, i) => `l${i}`) } }, 'items.0.batch.labels'],
      [{ ...line, batch: { ...line.batch, labels: ['x'.repeat(65)] } }, 'items.0.batch.labels'],
      [{ ...line, batch: { ...line.batch, webhookUrl: 'gopher://x' } }, 'items.0.batch.webhookUrl'],
      [{ ...line, batch: { ...line.batch, webhook: { status: 'sent', attempts: 1, error: null } } }, 'items.0.batch.webhook.status'],
      [{ ...line, batch: { ...line.batch, createdAt: 'yesterday' } }, 'items.0.batch.createdAt'],
    ];
    for (const [item, where] of cases) {
      const r = await dest.api('/v1/import', { body: { items: [item] } });
      expect(r.status, where).toBe(400);
      expect(r.body.error.code, where).toBe('invalid_request');
      expect(JSON.stringify(r.body.error), where).toContain(where);
    }
    // The outbound policy applies to every URL a line brings: chain steps, the batch's webhook, QStash callbacks.
    const blocked = await startServer({ blockPrivateTargets: true });
    const outside = { ...line, task: { ...line.task, targetUrl: 'https://example.com/x', webhookUrl: null }, batch: { ...line.batch, webhookUrl: 'https://example.com/hook' } };
    const policy: [unknown, string][] = [
      [{ ...outside, chain: { then: { targetUrl: 'https://example.com/y', then: { targetUrl: 'http://127.0.0.1:9/in' } } } }, 'items.0.chain.then.then.targetUrl'],
      [{ ...outside, chain: undefined, batch: { ...line.batch, webhookUrl: 'http://127.0.0.1:9/hook' } }, 'items.0.batch.webhookUrl'],
      [{ ...outside, chain: undefined, task: { ...outside.task, qstash: { kind: 'message', sent: {}, contentType: null, base64: false, retryDelay: null, callback: 'http://127.0.0.1:9/cb', failureCallback: null, urlGroup: null, endpointName: null, flowControl: null, notBefore: null, callerIp: null } } }, 'items.0.task.qstash.callback'],
    ];
    for (const [item, where] of policy) {
      const r = await blocked.api('/v1/import', { body: { items: [item] } });
      expect(r.status, where).toBe(400);
      expect(r.body.error.message, where).toContain(where);
    }
    // Nothing was stored: no task, no batch row.
    for (const s of [dest, blocked]) {
      expect((await s.api('/v1/tasks')).body.tasks).toEqual([]);
      expect((await s.api(`/v1/batches/${created.body.batchId}`)).status).toBe(404);
    }
    // The line itself is accepted: the batch, the key and the chain arrive.
    await dest.api('/v1/queues/held', { method: 'PUT', body: { paused: true } });
    expect((await dest.api('/v1/import', { body: { items: [line] } })).body).toEqual({ imported: 1, skipped: 0 });
    expect((await dest.api(`/v1/batches/${created.body.batchId}`)).body).toEqual((await source.api(`/v1/batches/${created.body.batchId}`)).body);
  });
});
