// api.md §9/§12 on two nodes of one PostgreSQL database (two spawned `asyncqueue serve`): the
// per-key cap holds for the cluster, counted where the requests arrive. PostgreSQL only.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnServer, testStore } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { tempDir } from '../helpers/temp.js';

async function api(url: string, p: string, body?: unknown) {
  const res = await fetch(url + p, body === undefined ? {} : { method: p.startsWith('/v1/queues/') ? 'PUT' : 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() as any };
}

describe.skipIf(testStore !== 'postgres')('keys on two nodes', () => {
  it('keyConcurrency 2 holds across both nodes: no key has a third request in flight at the target', async () => {
    const db = path.join(tempDir(), 'aq.db');
    const inFlight = new Map<string, number>();
    const most = new Map<string, number>();
    const held: (() => void)[] = [];
    const target = await startTarget(
      (req) =>
        new Promise((resolve) => {
          const key = req.json.key as string;
          inFlight.set(key, (inFlight.get(key) ?? 0) + 1);
          most.set(key, Math.max(most.get(key) ?? 0, inFlight.get(key)!));
          held.push(() => (inFlight.set(key, inFlight.get(key)! - 1), resolve({ status: 200 })));
          if (held.length === 4) for (const release of held.splice(0)) release();
        }),
    );
    // Both nodes start before any task exists.
    const a = await spawnServer(['--db', db, '--node-id', 'flow-a']);
    const b = await spawnServer(['--db', db, '--node-id', 'flow-b']);
    expect((await api(a.url, '/v1/queues/tenants', { keyConcurrency: 2 })).status).toBe(200);
    const tasks = ['x', 'y'].flatMap((key) => Array.from({ length: 8 }, (_, i) => ({ targetUrl: target.url, queue: 'tenants', concurrencyKey: key, payload: { key, i } })));
    const created = await api(b.url, '/v1/tasks/batch', { tasks });
    expect(created.status).toBe(201);
    for (const t of created.body.tasks as { id: string }[]) {
      for (;;) {
        const r = await api(t.id.length % 2 ? a.url : b.url, `/v1/tasks/${t.id}?wait=30`);
        if (r.body.status === 'completed') break;
        expect(['pending', 'running']).toContain(r.body.status);
      }
    }
    expect(Object.fromEntries(most)).toEqual({ x: 2, y: 2 });
    expect(target.requests).toHaveLength(16);
  });
});
