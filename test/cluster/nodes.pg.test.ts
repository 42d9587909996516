// Several `asyncqueue serve` processes on one PostgreSQL database (api.md §9), PostgreSQL only
// (the `postgres` project; two processes cannot share a SQLite file). Real spawned nodes, a real
// target, waits on the API's own long-polls, streams and target requests, never on sleeps.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Attempt, Task } from '../../src/shared/types.js';
import { pgQuery } from '../helpers/postgres.js';
import { spawnServer, testDb, testStore, type SpawnedServer } from '../helpers/server.js';
import { startTarget, type RecordedRequest } from '../helpers/target.js';
import { taskInput } from '../helpers/tasks.js';
import { tempDir } from '../helpers/temp.js';

const NODE_TIMEOUT_S = 2;

async function api(node: SpawnedServer | string, pathname: string, body?: unknown, method?: string): Promise<{ status: number; body: any }> {
  const url = typeof node === 'string' ? node : node.url;
  const res = await fetch(url + pathname, {
    method: method ?? (body === undefined ? 'GET' : 'POST'),
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** A database of its own for this test, and a way to start nodes on it. */
async function cluster() {
  const file = path.join(tempDir(), 'cluster.db');
  const { db } = await testDb(file);
  const start = (id: string, extra: string[] = []) =>
    spawnServer(['--db', file, '--node-id', id, '--node-name', id, '--node-timeout', `${NODE_TIMEOUT_S}s`, '--shutdown-grace', '1s', ...extra]);
  return { db, start, sql: <R = Record<string, unknown>>(text: string, values?: unknown[]) => pgQuery<R>(db, text, values) };
}

/** Waits until the task on `node` is terminal, through its long-poll. */
async function terminal(node: SpawnedServer, id: string): Promise<Task> {
  for (;;) {
    const t = (await api(node, `/v1/tasks/${id}?wait=30`)).body as Task;
    if (['completed', 'failed', 'cancelled'].includes(t.status)) return t;
  }
}

/** Calls `check` until it returns a value, re-asking after each event of `node`'s stream (bounded by the test timeout). */
async function until<T>(node: SpawnedServer, check: () => Promise<T | undefined>): Promise<T> {
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    // the next state change anywhere in the cluster (or a second, for what has no event)
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), 1000);
    try {
      const res = await fetch(node.url + '/v1/events', { signal: ac.signal });
      const reader = res.body!.getReader();
      await reader.read().catch(() => undefined);
      await reader.read().catch(() => undefined);
      ac.abort();
    } catch {
      // aborted: go on
    } finally {
      clearTimeout(timer);
    }
  }
}

const taskIdOf = (r: RecordedRequest) => String(r.headers['aq-task-id']);

describe.skipIf(testStore !== 'postgres')('a cluster of nodes on one PostgreSQL database', () => {
  it('makes every attempt exactly once across two nodes, and GET /v1/cluster shows both with one leader', async () => {
    const c = await cluster();
    const target = await startTarget(() => ({ status: 200, body: { ok: true } }));
    const [a, b] = await Promise.all([c.start('node-a'), c.start('node-b')]);
    const made = await Promise.all([a, b].map((n) => api(n, '/v1/tasks/batch', { tasks: Array.from({ length: 100 }, (_, i) => taskInput(target.url, { payload: { i } })) })));
    const ids = made.flatMap((m) => (m.body.tasks as Task[]).map((t) => t.id));
    expect(ids).toHaveLength(200);
    for (const id of ids) expect((await terminal(id.charCodeAt(id.length - 1) % 2 ? a : b, id)).status).toBe('completed');
    const sent = target.requests.map(taskIdOf);
    expect(sent.length).toBe(200);
    expect(new Set(sent).size).toBe(200);
    const rows = await c.sql<{ n: string }>(`SELECT count(*) AS n FROM attempts`);
    expect(Number(rows[0]!.n)).toBe(200);
    const view = (await api(b, '/v1/cluster')).body as { nodes: { id: string; leader: boolean; alive: boolean; heartbeatAt: string }[] };
    expect(view.nodes.map((n) => n.id).sort()).toEqual(['node-a', 'node-b']);
    expect(view.nodes.filter((n) => n.leader)).toHaveLength(1);
    expect(view.nodes.every((n) => n.alive && !Number.isNaN(Date.parse(n.heartbeatAt)))).toBe(true);
  });

  it('holds a queue concurrency of 4 across three nodes', async () => {
    const c = await cluster();
    const target = await startTarget(() => ({ status: 200, delayMs: 40 }));
    const nodes = await Promise.all(['node-a', 'node-b', 'node-c'].map((id) => c.start(id)));
    expect((await api(nodes[0]!, '/v1/queues/four', { concurrency: 4 }, 'PUT')).status).toBe(200);
    const made = await Promise.all(nodes.map((n) => api(n, '/v1/tasks/batch', { tasks: Array.from({ length: 20 }, () => taskInput(target.url, { queue: 'four' })) })));
    const ids = made.flatMap((m) => (m.body.tasks as Task[]).map((t) => t.id));
    for (const id of ids) expect((await terminal(nodes[2]!, id)).status).toBe('completed');
    expect(target.requests).toHaveLength(60);
    expect(target.maxInFlight).toBeLessThanOrEqual(4);
    expect(target.maxInFlight).toBeGreaterThan(1);
  });

  it('shows node A’s work to ?wait= and the event stream of node B, and a cancel on B aborts A’s request', async () => {
    const c = await cluster();
    const target = await startTarget((r) => (r.json?.hang ? { hang: true } : { status: 200, body: { ok: 1 } }));
    const a = await c.start('node-a');
    const b = await c.start('node-b', ['--concurrency', '1']);
    // B's stream, open before the task exists
    const ac = new AbortController();
    const stream = await fetch(b.url + '/v1/events', { signal: ac.signal });
    const reader = stream.body!.getReader();
    let text = '';
    const created = (await api(a, '/v1/tasks', taskInput(target.url))).body as Task;
    // One long-poll on B, answered when A's (or B's) attempt ends: the events reach B.
    const waited = (await api(b, `/v1/tasks/${created.id}?wait=30`)).body as Task;
    expect(waited.status).toBe('completed');
    while (!text.includes(`"id":"${created.id}","queue":"default","status":"completed"`)) text += new TextDecoder().decode((await reader.read()).value);
    for (const status of ['pending', 'running', 'completed']) expect(text).toContain(`"id":"${created.id}","queue":"default","status":"${status}"`);
    ac.abort();

    // A task only A runs: B is busy with a hanging one of its own first... simpler: find who runs it.
    const hanging = (await api(a, '/v1/tasks', taskInput(target.url, { payload: { hang: true } }))).body as Task;
    await target.waitForRequests(2);
    const [{ claimed_by: owner }] = await c.sql<{ claimed_by: string }>('SELECT claimed_by FROM tasks WHERE id = $1', [hanging.id]);
    const other = owner === 'node-a' ? b : a;
    const cancelled = await api(other, `/v1/tasks/${hanging.id}/cancel`, {});
    expect(cancelled.body.status).toBe('cancelled');
    await target.waitForAborted(1);
    expect(target.requests.find((r) => taskIdOf(r) === hanging.id)?.aborted).toBe(true);
  });

  it('retries the attempts of a node killed mid-work on the others, recorded interrupted, and a restarting node leaves live work alone', async () => {
    const c = await cluster();
    // First attempts hang (the work a killed node held); later ones answer at once.
    const target = await startTarget((r) => (r.headers['aq-attempt'] === '1' ? { hang: true } : { status: 200 }));
    const a = await c.start('node-a');
    const made = (await api(a, '/v1/tasks/batch', { tasks: Array.from({ length: 10 }, () => taskInput(target.url)) })).body.tasks as Task[];
    await target.waitForRequests(10);
    // B starts while A holds all ten; a restart of B (same id) must not touch them.
    let b = await c.start('node-b');
    b.proc.kill('SIGTERM');
    const code = await b.exited;
    expect(code, b.output() + String(b.proc.signalCode)).toBe(0);
    b = await c.start('node-b');
    const still = await c.sql<{ n: string }>(`SELECT count(*) AS n FROM tasks WHERE status = 'running' AND claimed_by = 'node-a' AND attempts = 1`);
    expect(Number(still[0]!.n)).toBe(10);
    expect(target.requests).toHaveLength(10);
    expect(target.requests.some((r) => r.aborted)).toBe(false);

    const [{ beat }] = await c.sql<{ beat: string }>(`SELECT heartbeat_at AS beat FROM nodes WHERE id = 'node-a'`);
    a.proc.kill('SIGKILL');
    await a.exited;
    for (const t of made) {
      const done = await terminal(b, t.id);
      expect(done.status).toBe('completed');
      const attempts = (await api(b, `/v1/tasks/${t.id}/attempts`)).body.attempts as Attempt[];
      expect(attempts.map((x) => x.error?.type ?? 'ok')).toEqual(['interrupted', 'ok']);
    }
    // Taken over within the node timeout of A's last heartbeat, plus a heartbeat interval and a little (database times).
    const [{ first }] = await c.sql<{ first: string }>(`SELECT min(started_at) AS first FROM attempts WHERE n = 2`);
    expect(Number(first) - Number(beat)).toBeLessThan(NODE_TIMEOUT_S * 1000 * 3);
    const view = (await api(b, '/v1/cluster')).body as { nodes: { id: string; leader: boolean; alive: boolean }[] };
    expect(view.nodes.find((n) => n.id === 'node-a')).toMatchObject({ alive: false, leader: false });
    expect(view.nodes.find((n) => n.id === 'node-b')).toMatchObject({ alive: true, leader: true });
  });

  it('fires a per-second schedule once per slot across three nodes, and a pause on A stops B', async () => {
    const c = await cluster();
    const target = await startTarget(() => ({ status: 200 }));
    const nodes = await Promise.all(['node-a', 'node-b', 'node-c'].map((id) => c.start(id)));
    const [a, b] = nodes as [SpawnedServer, SpawnedServer];
    expect((await api(b, '/v1/schedules', { id: 'tick', cron: '* * * * * *', task: taskInput(target.url, { queue: 'ticks' }) })).status).toBe(201);
    await target.waitForRequests(4);
    expect((await api(a, '/v1/schedules/tick', undefined, 'DELETE')).status).toBe(204);
    const rows = await c.sql<{ key: string; n: string }>(`SELECT idempotency_key AS key, count(*) AS n FROM tasks WHERE schedule_id = 'tick' GROUP BY 1`);
    expect(rows.length).toBeGreaterThanOrEqual(4);
    expect(rows.every((r) => Number(r.n) === 1)).toBe(true);
    const slots = rows.map((r) => Number(r.key.split(':').at(-1))).sort((x, y) => x - y);
    expect(new Set(slots).size).toBe(slots.length);
    expect(slots.every((s) => s % 1000 === 0)).toBe(true);

    // A pauses queue "held"; B accepts a task of it and dispatches none until A resumes it.
    expect((await api(a, '/v1/queues/held', { paused: true }, 'PUT')).status).toBe(200);
    const held = (await api(b, '/v1/tasks', taskInput(target.url, { queue: 'held' }))).body as Task;
    // A task of another queue created after it, done on B: B's dispatcher has passed over the paused one.
    const other = (await api(b, '/v1/tasks', taskInput(target.url, { queue: 'free' }))).body as Task;
    expect((await terminal(b, other.id)).status).toBe('completed');
    expect((await api(b, `/v1/tasks/${held.id}`)).body.status).toBe('pending');
    expect(target.requests.some((r) => taskIdOf(r) === held.id)).toBe(false);
    expect((await api(a, '/v1/queues/held', { paused: false }, 'PUT')).status).toBe(200);
    expect((await terminal(b, held.id)).status).toBe('completed');
  });

  it('carries on without loss when the database terminates every connection of the nodes', async () => {
    const c = await cluster();
    const target = await startTarget(() => ({ status: 200, delayMs: 5 }));
    const [a, b] = await Promise.all([c.start('node-a'), c.start('node-b')]);
    const made = (await api(a, '/v1/tasks/batch', { tasks: Array.from({ length: 200 }, () => taskInput(target.url)) })).body.tasks as Task[];
    await target.waitForRequests(20);
    const killed = await c.sql<{ n: string }>(
      `SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity
       WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name LIKE 'asyncqueue%'`,
    );
    expect(Number(killed[0]!.n)).toBeGreaterThan(0);
    for (const t of made) expect((await terminal(b, t.id)).status).toBe('completed');
    expect(new Set(target.requests.map(taskIdOf)).size).toBe(200);
    // Both nodes answer and listen again: a task made on B ends, seen by one long-poll on A.
    const after = (await until(b, async () => {
      const r = await api(b, '/v1/tasks', taskInput(target.url));
      return r.status === 201 ? (r.body as Task) : undefined;
    }));
    expect((await terminal(a, after.id)).status).toBe('completed');
    const counts = (await api(a, '/v1/stats')).body.counts as Record<string, number>;
    expect(counts).toMatchObject({ pending: 0, running: 0, completed: 201 });
  });
});
