import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnServer } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';

async function post(url: string, body: unknown) {
  const r = await fetch(url + '/v1/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as { id: string } };
}

describe('durability', () => {
  for (const durability of ['full', 'normal']) {
    it(`every task acknowledged with 201 survives a SIGKILL right after (durability ${durability})`, async () => {
      const db = path.join(tempDir(), 'aq.db');
      const first = await spawnServer(['--db', db, '--durability', durability]);
      // Tasks far in the future stay pending, so the restart finds them exactly as created.
      const created = await Promise.all(
        Array.from({ length: 300 }, (_, i) => post(first.url, { targetUrl: 'http://127.0.0.1:9/x', delay: 3600, payload: { i }, labels: ['durable'] })),
      );
      first.proc.kill('SIGKILL');
      await first.exited;
      expect(created.every((r) => r.status === 201)).toBe(true);

      const second = await spawnServer(['--db', db]);
      for (const r of created) {
        const got = await fetch(`${second.url}/v1/tasks/${r.body.id}`);
        expect(got.status).toBe(200);
        expect(await got.json()).toMatchObject({ id: r.body.id, status: 'pending', labels: ['durable'] });
      }
      const stats = (await (await fetch(`${second.url}/v1/stats`)).json()) as { counts: { pending: number } };
      expect(stats.counts.pending).toBe(300);
      second.proc.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    });
  }
});
