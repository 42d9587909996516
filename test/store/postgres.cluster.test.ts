// PostgreSQL-only store cases of the cluster (api.md §9): heartbeats and the leader lease in
// database time, the leader's rescue of dead nodes' work, and NOTIFY carrying every task state
// change to the other nodes (split under NOTIFY's 8,000-byte limit), never back to its own node.
// Node death is made by aging a heartbeat in SQL, not by waiting.
import { describe, expect, it, onTestFinished } from 'vitest';
import { toNewTask } from '../../src/shared/defaults.js';
import type { CreateTaskInput, TaskEvent } from '../../src/shared/types.js';
import { PostgresStore } from '../../src/store/postgres/index.js';
import { parseTasksPayload } from '../../src/store/postgres/listen.js';
import { freshPgUrl, pgQuery } from '../helpers/postgres.js';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const newTask = (extra: Partial<CreateTaskInput> = {}) => toNewTask({ targetUrl: 'http://127.0.0.1:9/x', payload: { n: 1 }, ...extra }, T0);
const TIMEOUT = 15_000;

async function open(url: string, nodeId: string, listen = false) {
  const store = await PostgresStore.open({ url, nodeId, dbTime: false, listen });
  onTestFinished(() => store.close());
  return store;
}

const beat = (s: PostgresStore, first = false) => s.heartbeat({ id: s.nodeId, name: s.nodeId, startedAt: T0, inFlight: 0, first }, TIMEOUT);

/** Collects the events a store announces, by origin; `until(n)` resolves once `n` remote ones arrived. */
function collect(store: PostgresStore) {
  const local: TaskEvent[] = [];
  const remote: TaskEvent[] = [];
  let want = Infinity;
  let wake = () => {};
  store.signals.on((events, origin) => {
    (origin === 'local' ? local : remote).push(...events);
    if (remote.length >= want) wake();
  });
  const until = (n: number) => (remote.length >= n ? Promise.resolve() : new Promise<void>((r) => ((want = n), (wake = r))));
  return { local, remote, until };
}

describe('PostgreSQL cluster: leases, rescue, notifications', () => {
  it('one leader at a time; an expired lease is taken over; a dead node is never shown leading', async () => {
    const url = await freshPgUrl();
    const a = await open(url, 'node-a');
    const b = await open(url, 'node-b');
    expect(await beat(a, true)).toMatchObject({ leader: true });
    expect(await beat(b, true)).toMatchObject({ leader: false });
    expect(await beat(a)).toMatchObject({ leader: true });
    await pgQuery(url, 'UPDATE leader SET expires_at = 0');
    expect(await beat(b)).toMatchObject({ leader: true });
    expect(await beat(a)).toMatchObject({ leader: false });
    let nodes = await a.listNodes(TIMEOUT);
    expect(nodes.map((n) => [n.id, n.leader, n.alive])).toEqual([['node-a', false, true], ['node-b', true, true]]);
    // B stops heartbeating while its lease still runs: dead, so not shown as leader.
    await pgQuery(url, `UPDATE nodes SET heartbeat_at = heartbeat_at - 60000 WHERE id = 'node-b'`);
    nodes = await a.listNodes(TIMEOUT);
    expect(nodes.find((n) => n.id === 'node-b')).toMatchObject({ alive: false, leader: false });
    await b.leaveCluster('node-b');
    expect((await a.listNodes(TIMEOUT)).map((n) => n.id)).toEqual(['node-a']);
  });

  it('the rescue makes a dead node’s running attempts pending (interrupted) and leaves open async attempts and live nodes alone', async () => {
    const url = await freshPgUrl();
    const a = await open(url, 'node-a');
    const b = await open(url, 'node-b');
    await beat(a, true);
    await beat(b, true);
    const [x, y, z] = (await a.createTasks([newTask({ queue: 'q' }), newTask({ queue: 'q', async: {} }), newTask({ queue: 'r' })])).map((r) => r.task.id);
    await a.claimTasks(new Map([['q', 2]]), T0 + 1);
    await b.claimTasks(new Map([['r', 1]]), T0 + 1);
    expect(await a.acceptAttempts([{ id: y!, attempt: 1, startedAt: T0 + 1, now: T0 + 2, deadline: T0 + 3_600_000 }])).toEqual([true]);
    // Both alive: nothing to rescue.
    expect(await b.rescueDeadNodes(TIMEOUT)).toMatchObject({ tasks: 0, deliveries: 0, nodes: [] });
    await pgQuery(url, `UPDATE nodes SET heartbeat_at = heartbeat_at - 60000 WHERE id = 'node-a'`);
    const seen = collect(b);
    expect(await b.rescueDeadNodes(TIMEOUT)).toMatchObject({ tasks: 1, nodes: ['node-a'] });
    expect(seen.local.map((e) => [e.id, e.status, e.attempts])).toEqual([[x, 'pending', 1]]);
    expect(await b.getTask(x!)).toMatchObject({ status: 'pending', error: { type: 'interrupted' } });
    expect((await b.listAttempts(x!))!.map((t) => t.error?.type)).toEqual(['interrupted']);
    expect(await b.getTask(y!)).toMatchObject({ status: 'running' }); // open async attempt: work at the target
    expect(await b.getTask(z!)).toMatchObject({ status: 'running' }); // B's own, B is alive
    // A late answer of the dead node is not applied.
    expect(await a.finishAttempts([{ id: x!, attempt: 1, startedAt: T0 + 1, durationMs: 1, httpStatus: 200, next: { status: 'completed', resultJson: null }, now: T0 + 5 }])).toEqual([false]);
  });

  it('the rescue closes every open batch.done attempt of a dead node, also one superseded while in flight, and leaves a live node’s alone', async () => {
    const url = await freshPgUrl();
    const a = await open(url, 'node-a');
    const b = await open(url, 'node-b');
    await beat(a, true);
    await beat(b, true);
    const hook = 'http://127.0.0.1:9/done';
    /** A batch of one member that has ended `status` (claimed and finished by `by`): done, its batch.done due. */
    const doneBatch = async (id: string, status: 'completed' | 'failed', by: PostgresStore) => {
      const [r] = await a.createTasks([{ ...newTask({ queue: id }), batchId: id }], undefined, { id, webhookUrl: hook, labels: [], createdAt: T0 });
      const [c] = await by.claimTasks(new Map([[id, 1]]), T0 + 1);
      const next = status === 'completed' ? ({ status, resultJson: null } as const) : ({ status, error: { type: 'http', status: 400, message: 'no' } } as const);
      await by.finishAttempts([{ id: c!.id, attempt: 1, startedAt: T0 + 1, durationMs: 1, httpStatus: status === 'completed' ? 200 : 400, next, now: T0 + 2, batchId: id }]);
      return r!.task.id;
    };
    const member = await doneBatch('bat_a', 'failed', a);
    expect(await a.claimDeliveries(1, T0 + 3)).toMatchObject([{ id: 'bat_a', outcome: 1, attempt: 1 }]);
    // The member is retried and completes: the batch is done again, and A claims outcome 2 too.
    expect((await a.retryTask(member, T0 + 4)).ok).toBe(true);
    const [c] = await a.claimTasks(new Map([['bat_a', 1]]), T0 + 5);
    await a.finishAttempts([{ id: c!.id, attempt: 2, startedAt: T0 + 5, durationMs: 1, httpStatus: 200, next: { status: 'completed', resultJson: null }, now: T0 + 6, batchId: 'bat_a' }]);
    expect(await a.claimDeliveries(1, T0 + 7)).toMatchObject([{ id: 'bat_a', outcome: 2, attempt: 1 }]);
    // B's own batch.done in flight: B is alive, it stays open.
    await doneBatch('bat_b', 'completed', b);
    expect(await b.claimDeliveries(1, T0 + 8)).toMatchObject([{ id: 'bat_b', outcome: 1, attempt: 1 }]);

    await pgQuery(url, `UPDATE nodes SET heartbeat_at = heartbeat_at - 60000 WHERE id = 'node-a'`);
    expect(await b.rescueDeadNodes(TIMEOUT)).toMatchObject({ deliveries: 1, nodes: ['node-a'] });
    const history = (await b.listBatchDeliveries('bat_a'))!;
    expect(history.map((d) => [d.outcome, d.attempt, d.error?.type])).toEqual([[1, 1, 'interrupted'], [2, 1, 'interrupted']]);
    expect(history.every((d) => d.durationMs !== null)).toBe(true);
    expect((await b.getBatch('bat_a'))!.webhook).toMatchObject({ status: 'pending', attempts: 1 });
    expect(await b.listBatchDeliveries('bat_b')).toMatchObject([{ outcome: 1, attempt: 1, durationMs: null }]);
    // The outcome-2 delivery is claimed again, as attempt 2, by the living node (the rescue made it due in database time).
    expect(await b.claimDeliveries(10, Date.now() + 60_000)).toMatchObject([{ id: 'bat_a', kind: 'batch', outcome: 2, attempt: 2 }]);
  });

  it('carries every task change to the other nodes, split under the NOTIFY limit, and never back to its own node', async () => {
    const url = await freshPgUrl();
    const a = await open(url, 'node-a', true);
    const b = await open(url, 'node-b', true);
    // Alone, a node notifies nobody: nothing is sent until a second node has registered.
    await beat(a, true);
    const lone = collect(b);
    await a.createTasks([newTask({ queue: 'alone' })]);
    await beat(b, true);
    const atA = collect(a);
    const atB = collect(b);
    const made = await a.createTasks(Array.from({ length: 1000 }, () => newTask({ queue: 'q'.repeat(64) })));
    await atB.until(1000);
    expect(new Set(atB.remote.map((e) => e.id))).toEqual(new Set(made.map((m) => m.task.id)));
    expect(atB.remote.every((e) => e.status === 'pending' && e.attempts === 0)).toBe(true);
    expect(atA.local).toHaveLength(1000);
    // B cancels one: A hears it; B hears its own change only locally.
    await b.cancelTask(made[0]!.task.id, T0 + 1);
    await atA.until(1);
    expect(atA.remote).toEqual([expect.objectContaining({ id: made[0]!.task.id, status: 'cancelled' })]);
    expect(atB.remote).toHaveLength(1000);
    expect(atB.local.map((e) => e.status)).toEqual(['cancelled']);
    expect(lone.remote.filter((e) => e.queue === 'alone')).toEqual([]);
  });

  it('parses payloads defensively: own origin, malformed lines and unknown states are dropped', () => {
    expect(parseTasksPayload('node-a\n["t1","q","pending",0,5]', 'node-a')).toBeUndefined();
    expect(parseTasksPayload('no newline', 'x')).toBeUndefined();
    expect(parseTasksPayload('node-a\n["t1","q","pending",0,5]\nnot json\n["t2","q","exploded",0,5]\n[1,2]', 'node-b')).toEqual([
      { id: 't1', queue: 'q', status: 'pending', attempts: 0, at: new Date(5).toISOString() },
    ]);
  });
});
