// Chaos: 2,000 tasks against a target that fails at random while the server is SIGKILLed and
// restarted ten times mid-run. Every acknowledged task (201, or 200 for a re-sent idempotency
// key) must reach a terminal state; none may be lost. Duplicate deliveries (at least once) are
// counted and printed, not forbidden.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnServer, type SpawnedServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { tempDir } from '../helpers/temp.js';

const TASKS = Number(process.env.CHAOS_TASKS ?? 2000);
const KILLS = Number(process.env.CHAOS_KILLS ?? 10);
const BATCH = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('chaos: SIGKILL during a steady run', () => {
  it('loses no acknowledged task across repeated kills and restarts', { timeout: 120_000 }, async () => {
    const okByTask = new Map<string, number>();
    const target = await startTarget((req) => {
      const fail = Math.random() < 0.25;
      if (!fail) okByTask.set(String(req.headers['aq-task-id']), (okByTask.get(String(req.headers['aq-task-id'])) ?? 0) + 1);
      return { status: fail ? 503 : 200, delayMs: Math.floor(Math.random() * 15), body: { ok: !fail } };
    });
    const db = path.join(tempDir(), 'chaos.db');
    const args = ['--db', db, '--concurrency', '64'];
    let server: SpawnedServer = await spawnServer(args);
    let restarting: Promise<void> | undefined;

    const acked = new Set<string>();
    const keyToId = new Map<string, string>();
    let resent = 0;
    const body = (i: number) => ({
      targetUrl: `${target.url}/chaos/${i}`, payload: { i }, retries: 10, timeout: 5,
      backoff: { initial: 0.01, factor: 2, max: 0.2 }, idempotencyKey: `chaos-${i}`,
    });
    /** POSTs until the server answers (it may be dead or restarting); at most ~30 s per call. */
    const post = async (pathname: string, json: unknown): Promise<any> => {
      for (let attempt = 0; attempt < 300; attempt++) {
        await restarting;
        try {
          const res = await fetch(server.url + pathname, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(json), signal: AbortSignal.timeout(10_000) });
          const out = await res.json();
          if (res.status === 200 || res.status === 201) return out;
          if (res.status !== 503) throw new Error(`unexpected ${res.status}: ${JSON.stringify(out)}`);
        } catch (err) {
          if ((err as Error).message.startsWith('unexpected')) throw err;
        }
        resent++;
        await sleep(100);
      }
      throw new Error('the server never answered');
    };
    const ack = (t: { id: string; idempotencyKey: string }) => {
      acked.add(t.id);
      const before = keyToId.get(t.idempotencyKey);
      if (before && before !== t.id) throw new Error(`idempotency key ${t.idempotencyKey} made two tasks`);
      keyToId.set(t.idempotencyKey, t.id);
    };

    // Producers: half single creates, half batches of 10, 12 at a time.
    let next = 0;
    const producer = async () => {
      while (next < TASKS) {
        const start = next;
        if ((start / BATCH) % 2 === 0 && start + BATCH <= TASKS) {
          next += BATCH;
          const r = await post('/v1/tasks/batch', { tasks: Array.from({ length: BATCH }, (_, k) => body(start + k)) });
          for (const t of r.tasks) ack(t);
        } else {
          next++;
          ack(await post('/v1/tasks', body(start)));
        }
      }
    };
    const producing = Promise.all(Array.from({ length: 12 }, producer));

    // The killer: SIGKILL at a random moment, restart on the same file, ten times.
    let kills = 0;
    const killer = (async () => {
      while (kills < KILLS) {
        await sleep(300 + Math.random() * 900);
        let done!: () => void;
        restarting = new Promise<void>((r) => (done = r));
        server.proc.kill('SIGKILL');
        await server.exited;
        kills++;
        server = await spawnServer(args);
        done();
      }
    })();
    await Promise.all([producing, killer]);

    // Let the last server finish everything (bounded).
    const deadline = Date.now() + 45_000;
    let counts: Record<string, number> = {};
    while (Date.now() < deadline) {
      counts = (await (await fetch(server.url + '/v1/stats')).json()).counts;
      if (counts.pending === 0 && counts.running === 0) break;
      await sleep(200);
    }
    const stored = new Map<string, string>();
    let cursor: string | null = null;
    for (let page = 0; page < 100; page++) {
      const r: any = await (await fetch(`${server.url}/v1/tasks?limit=500${cursor ? '&cursor=' + cursor : ''}`)).json();
      for (const t of r.tasks) stored.set(t.id, t.status);
      cursor = r.nextCursor;
      if (!cursor) break;
    }
    const lost = [...acked].filter((id) => !stored.has(id));
    const unfinished = [...acked].filter((id) => stored.has(id) && !['completed', 'failed'].includes(stored.get(id)!));
    const completed = [...acked].filter((id) => stored.get(id) === 'completed');
    const neverDelivered = completed.filter((id) => !okByTask.has(id));
    const duplicated = [...okByTask.values()].filter((n) => n > 1);
    const duplicates = duplicated.reduce((sum, n) => sum + n - 1, 0);
    console.log(
      `chaos: ${acked.size} tasks acknowledged, ${kills} SIGKILLs survived, ${lost.length} lost, ${unfinished.length} unfinished, ` +
        `${completed.length} completed, ${acked.size - completed.length} failed after retries, ${target.requests.length} requests at the target, ` +
        `${duplicates} duplicate deliveries over ${duplicated.length} tasks, ${resent} client re-sends while the server was down`,
    );
    expect(kills).toBe(KILLS);
    expect(acked.size).toBe(TASKS);
    expect(lost).toEqual([]);
    expect(unfinished).toEqual([]);
    expect(neverDelivered).toEqual([]);
    expect(stored.size).toBe(TASKS); // idempotency keys kept re-sent creates from making extras
  });
});
