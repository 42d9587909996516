// PostgreSQL-only store cases: what several nodes on one database rely on (claims exactly once,
// owners, limits held for the cluster, the database's clock, migrations under a lock, counts
// under concurrent writers) and losing the database. The shared cases are in contract/.
import { describe, expect, it, onTestFinished } from 'vitest';
import { toNewTask } from '../../src/shared/defaults.js';
import type { CreateTaskInput } from '../../src/shared/types.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { SCHEMA_VERSION } from '../../src/store/postgres/migrations.js';
import { StoreUnavailableError } from '../../src/store/store.js';
import { freshPgUrl, pgQuery, pgRelay } from '../helpers/postgres.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const newTask = (extra: Partial<CreateTaskInput> = {}, now = T0) => toNewTask({ targetUrl: 'http://127.0.0.1:9/x', payload: { n: 1 }, ...extra }, now);

async function open(url: string, nodeId: string, extra: { dbTime?: boolean } = {}) {
  const store = await PostgresStore.open({ url, nodeId, dbTime: extra.dbTime ?? false });
  onTestFinished(() => store.close());
  return store;
}

/** Two nodes on one fresh schema. */
async function twoNodes() {
  const url = await freshPgUrl();
  return { url, a: await open(url, 'node-a'), b: await open(url, 'node-b') };
}

const done = (id: string, attempt: number, now = T0) => ({
  id, attempt, startedAt: now, durationMs: 1, httpStatus: 200, next: { status: 'completed' as const, resultJson: null }, now,
});

describe('PostgreSQL store: several nodes on one database', () => {
  it('nodes starting together migrate once; a newer schema is refused and left as it is', async () => {
    const url = await freshPgUrl();
    const stores = await Promise.all(['n1', 'n2', 'n3', 'n4'].map((n) => open(url, n)));
    expect(await pgQuery(url, 'SELECT version FROM aq_schema ORDER BY version')).toEqual(
      Array.from({ length: SCHEMA_VERSION }, (_, i) => ({ version: i + 1 })),
    );
    expect((await stores[0]!.info()).schemaVersion).toBe(SCHEMA_VERSION);
    await pgQuery(url, 'INSERT INTO aq_schema (version) VALUES ($1)', [SCHEMA_VERSION + 5]);
    await expect(PostgresStore.open({ url })).rejects.toThrow(/schema version .* upgrade AsyncQueue/);
    expect((await pgQuery<{ v: number }>(url, 'SELECT max(version) AS v FROM aq_schema'))[0]!.v).toBe(SCHEMA_VERSION + 5);
  });

  it('an unreachable database fails at open with one line naming it (password hidden)', async () => {
    const err = await PostgresStore.open({ url: 'postgres://aq:secret@127.0.0.1:1/aq' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^cannot connect to PostgreSQL at postgres:\/\/aq:\*\*\*@127\.0\.0\.1:1\/aq: /);
    expect((err as Error).message).not.toContain('secret');
    expect((err as Error).message).not.toContain('\n');
  });

  it('two nodes claiming at once take every task exactly once, each recorded as its owner', async () => {
    const { url, a, b } = await twoNodes();
    await a.createTasks(Array.from({ length: 300 }, (_, i) => newTask({ queue: i % 2 ? 'x' : 'y' })));
    const claimed = { a: [] as string[], b: [] as string[] };
    const drain = async (s: PostgresStore, into: string[]) => {
      for (;;) {
        const got = await s.claimTasks(new Map([['x', 7], ['y', 5]]), T0);
        if (got.length === 0) return;
        into.push(...got.map((t) => t.id));
      }
    };
    await Promise.all([drain(a, claimed.a), drain(b, claimed.b), drain(a, claimed.a), drain(b, claimed.b)]);
    const all = [...claimed.a, ...claimed.b];
    expect(all).toHaveLength(300);
    expect(new Set(all).size).toBe(300);
    const owners = await pgQuery<{ claimed_by: string; n: number }>(url, `SELECT claimed_by, count(*)::int AS n FROM tasks WHERE status = 'running' GROUP BY claimed_by ORDER BY claimed_by`);
    expect(owners).toEqual([{ claimed_by: 'node-a', n: claimed.a.length }, { claimed_by: 'node-b', n: claimed.b.length }].filter((o) => o.n > 0));
    expect((await a.stats(T0)).counts).toMatchObject({ pending: 0, running: 300 });
  });

  it("a node can neither finish nor recover another node's attempt", async () => {
    const { a, b } = await twoNodes();
    const [t] = await a.createTasks([newTask()]);
    const [c] = await a.claimTasks(new Map([['default', 1]]), T0);
    expect(c!.id).toBe(t!.task.id);
    expect(await b.finishAttempts([done(c!.id, 1)])).toEqual([false]);
    expect(await b.recoverInterrupted(T0 + 5)).toEqual({ tasks: 0, deliveries: 0 });
    expect(await a.getTask(c!.id)).toMatchObject({ status: 'running', attempts: 1 });
    expect(await a.finishAttempts([done(c!.id, 1)])).toEqual([true]);
    expect(await b.getTask(c!.id)).toMatchObject({ status: 'completed' });
    // a node restarting under its own id takes its own running work back
    const [u] = await a.createTasks([newTask()]);
    await a.claimTasks(new Map([['default', 1]]), T0);
    expect(await a.recoverInterrupted(T0 + 5)).toEqual({ tasks: 1, deliveries: 0 });
    expect(await a.getTask(u!.task.id)).toMatchObject({ status: 'pending', error: { type: 'interrupted' } });
  });

  it("a queue's concurrency holds across nodes claiming at once", async () => {
    const { a, b } = await twoNodes();
    await a.updateQueue('lim', { concurrency: 3 }, T0);
    await Promise.all([a.queueLimits(), b.queueLimits()]);
    await a.createTasks(Array.from({ length: 20 }, () => newTask({ queue: 'lim' })));
    const nodes = [a, b, a, b];
    const rounds = await Promise.all(nodes.map((s) => s.claimTasks(new Map([['lim', 10]]), T0)));
    expect(rounds.flat()).toHaveLength(3);
    const k = rounds.findIndex((r) => r.length > 0);
    expect(await nodes[k]!.finishAttempts([done(rounds[k]![0]!.id, 1)])).toEqual([true]);
    const next = await Promise.all([b.claimTasks(new Map([['lim', 10]]), T0), a.claimTasks(new Map([['lim', 10]]), T0)]);
    expect(next.flat()).toHaveLength(1);
  });

  it("a queue's rate holds across nodes: one shared token bucket, refilled by time", async () => {
    const { a, b } = await twoNodes();
    await a.updateQueue('slow', { ratePerSecond: 20 }, T0); // burst capacity 2
    await Promise.all([a.queueLimits(), b.queueLimits()]);
    await a.createTasks(Array.from({ length: 20 }, () => newTask({ queue: 'slow' })));
    const first = await Promise.all([a, b, a, b].map((s) => s.claimTasks(new Map([['slow', 10]]), T0)));
    expect(first.flat()).toHaveLength(2);
    const later = await Promise.all([a, b].map((s) => s.claimTasks(new Map([['slow', 10]]), T0 + 50))); // 50 ms = 1 token
    expect(later.flat()).toHaveLength(1);
  });

  it("a claim given back unstarted (api.md §12) returns its token to the queue's bucket, up to the burst", async () => {
    const { a, b } = await twoNodes();
    await a.updateQueue('slow', { ratePerSecond: 20 }, T0); // burst capacity 2
    await Promise.all([a.queueLimits(), b.queueLimits()]);
    await a.createTasks(Array.from({ length: 6 }, () => newTask({ queue: 'slow' })));
    const taken = await a.claimTasks(new Map([['slow', 10]]), T0);
    expect(taken).toHaveLength(2);
    expect(await b.claimTasks(new Map([['slow', 10]]), T0)).toEqual([]);
    expect(await a.unclaimTasks([{ id: taken[0]!.id, attempt: taken[0]!.attempt, runAt: T0 + 60_000 }], T0)).toEqual([true]);
    const again = await b.claimTasks(new Map([['slow', 10]]), T0);
    expect(again).toHaveLength(1);
    expect(again[0]!.id).not.toBe(taken[0]!.id);
    // Giving back both of a full bucket's claims refills it to its burst, not past it.
    const back = (t: { id: string; attempt: number }) => [{ id: t.id, attempt: t.attempt, runAt: T0 + 60_000 }];
    expect([...(await a.unclaimTasks(back(taken[1]!), T0)), ...(await b.unclaimTasks(back(again[0]!), T0))]).toEqual([true, true]);
    expect(await b.claimTasks(new Map([['slow', 10]]), T0 + 1)).toHaveLength(2);
  });

  it('a pause made on one node stops claims on another at once, whatever that node has cached', async () => {
    const { a, b } = await twoNodes();
    await a.createTasks([newTask({ queue: 'p' })]);
    expect(await b.queueLimits()).toEqual([{ name: 'p', concurrency: null, ratePerSecond: null, keyConcurrency: null, paused: false }]);
    await a.updateQueue('p', { paused: true }, T0);
    expect(await b.claimTasks(new Map([['p', 5]]), T0)).toEqual([]);
    await a.updateQueue('p', { paused: false }, T0);
    expect(await b.claimTasks(new Map([['p', 5]]), T0)).toHaveLength(1);
  });

  it("with the database's clock, a node whose clock runs ahead claims nothing early", async () => {
    const url = await freshPgUrl();
    const store = await open(url, 'node-a', { dbTime: true });
    const now = Date.now();
    const [soon] = await store.createTasks([newTask({ delay: 3600 }, now), newTask({}, now)]);
    const claimed = await store.claimTasks(new Map([['default', 10]]), now + 2 * 3600_000);
    expect(claimed.map((c) => c.id)).not.toContain(soon!.task.id);
    expect(claimed).toHaveLength(1);
    const dbNow = (await pgQuery<{ ms: number }>(url, 'SELECT aq_now_ms() AS ms'))[0]!.ms;
    expect(Math.abs(claimed[0]!.startedAt - dbNow)).toBeLessThan(60_000);
    expect(await store.dueQueues(['default'], now + 2 * 3600_000)).toEqual([]);
  });

  it('counts stay exact with many writers on several connections at once', async () => {
    const { url, a, b } = await twoNodes();
    await Promise.all(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).createTasks(Array.from({ length: 25 }, () => newTask({ queue: i % 3 ? 'q1' : 'q2' })))),
    );
    await Promise.all([
      a.claimTasks(new Map([['q1', 40]]), T0),
      b.claimTasks(new Map([['q2', 30]]), T0),
      a.cancelMany({ queue: 'q2', status: 'pending' }, T0),
      b.cancelMany({ queue: 'q1', status: 'pending' }, T0),
    ]);
    const truth = await pgQuery<{ queue: string; status: string; n: number }>(url, 'SELECT queue, status, count(*)::int AS n FROM tasks GROUP BY queue, status');
    const stats = await b.stats(T0);
    for (const r of truth) expect(stats.queues[r.queue]![r.status as 'pending']).toBe(r.n);
    expect(Object.values(stats.counts).reduce((x, y) => x + y, 0)).toBe(400);
  });

  it('settings: nodes bootstrapping a secret at once all read the same one', async () => {
    const { a, b } = await twoNodes();
    const got = await Promise.all([a, b, a, b].map((s, i) => s.initSetting('signing_secret', `v${i}`)));
    expect(new Set(got).size).toBe(1);
  });

  it('the claim and purge use their indexes', async () => {
    const { url, a } = await twoNodes();
    await a.createTasks(Array.from({ length: 50 }, () => newTask()));
    await pgQuery(url, 'ANALYZE tasks');
    // 50 rows fit in one page, where a scan is cheapest; forbid it to see which index the planner takes
    const plan = async (sql: string) =>
      (await pgQuery<{ 'QUERY PLAN': string }>(url, `SET enable_seqscan = off; EXPLAIN ${sql}`)).map((r) => r['QUERY PLAN']).join('\n');
    expect(await plan(`SELECT seq FROM tasks WHERE status = 'pending' AND queue = 'default' AND run_at <= 9000000000000 ORDER BY priority DESC, run_at LIMIT 10`)).toMatch(/tasks_due/);
    expect(await plan(`SELECT seq FROM tasks WHERE webhook_status = 'pending' AND webhook_run_at <= 9000000000000 ORDER BY webhook_run_at LIMIT 10`)).toMatch(/tasks_webhook_due/);
  });

  it('a lost database answers StoreUnavailableError, and the store recovers by itself when it returns', async () => {
    const url = await freshPgUrl();
    const relay = await pgRelay(url);
    onTestFinished(() => relay.close());
    const store = await open(relay.url, 'node-a');
    await store.createTasks([newTask()]);
    await relay.down();
    await expect(store.createTasks([newTask()])).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(store.getTask('tsk_x')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await store.ping()).toBe(false);
    await relay.up();
    await store.createTasks([newTask()]);
    expect((await store.stats(T0)).counts.pending).toBe(2);
  });

  it('attempt results wait for a lost database and are recorded once it returns', async () => {
    const url = await freshPgUrl();
    const relay = await pgRelay(url);
    onTestFinished(() => relay.close());
    const store = await open(relay.url, 'node-a');
    const [t] = await store.createTasks([newTask()]);
    await store.claimTasks(new Map([['default', 1]]), T0);
    await relay.down();
    let settled = false;
    const finishing = store.finishAttempts([done(t!.task.id, 1)]).finally(() => (settled = true));
    await expect(store.getTask(t!.task.id)).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(settled).toBe(false);
    await relay.up();
    expect(await finishing).toEqual([true]);
    expect(await store.getTask(t!.task.id)).toMatchObject({ status: 'completed', attempts: 1 });
    expect((await store.stats(T0)).perMinute.reduce((n, m) => n + m.dispatched, 0)).toBe(1);
  });

  it('a claim the database committed but whose answer was lost is given back when the database returns', async () => {
    const url = await freshPgUrl();
    const relay = await pgRelay(url);
    onTestFinished(() => relay.close());
    const store = await open(relay.url, 'node-a');
    const [t] = await store.createTasks([newTask()]);
    expect(await store.claimTasks(new Map([['warm', 1]]), T0)).toEqual([]); // the claim's connection is open before the answers go missing
    relay.mute();
    const claim = store.claimTasks(new Map([['default', 1]]), T0).catch((e: Error) => e);
    // wait until the database has done the claim (the answer is being swallowed)
    for (const end = Date.now() + 25_000; Date.now() < end; ) {
      const [r] = await pgQuery<{ status: string }>(url, 'SELECT status FROM tasks WHERE id = $1', [t!.task.id]);
      if (r!.status === 'running') break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await relay.down();
    expect(await claim).toBeInstanceOf(StoreUnavailableError);
    await relay.up();
    const later = Date.now() + 60_000; // released work is due at the database's now
    expect(await store.dueQueues(['default'], later)).toEqual(['default']);
    expect(await store.getTask(t!.task.id)).toMatchObject({ status: 'pending', attempts: 1, error: { type: 'interrupted' } });
    const [again] = await store.claimTasks(new Map([['default', 1]]), later);
    expect(again).toMatchObject({ id: t!.task.id, attempt: 2 });
  });
});
