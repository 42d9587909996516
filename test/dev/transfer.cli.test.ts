// Backup, export and import (api.md §15) through the real CLI against real servers: export →
// import keeps every task, attempt, state and id, twice without duplicates; a malformed line
// is reported by number with only whole batches before it imported; a backup taken under
// load is a consistent database holding every task acknowledged before it.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { createServer } from '../../src/server.js';
import { silentLogger } from '../../src/log.js';
import { startServer, testStore, type TestServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { waitForTerminal } from '../helpers/tasks.js';
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
});
