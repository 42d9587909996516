import { describe, expect, it } from 'vitest';
import { InvalidCursorError } from '../../src/store/store.js';
import { PURGE } from '../../src/store/sqlite/maintenance.js';
import { newTask, openStore, T0 } from './setup.js';

describe('listing tasks', () => {
  it('walks thousands of tasks newest first with cursors, without repeats or gaps', async () => {
    const { store } = openStore();
    const all = Array.from({ length: 3000 }, (_, i) => newTask({ queue: i % 3 === 0 ? 'a' : 'b', labels: i % 5 === 0 ? ['five'] : [] }, T0 + i));
    await store.createTasks(all);
    const walk = async (filter: { queue?: string; label?: string }) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 1000; pages++) {
        const page = await store.listTasks({ ...filter, limit: 137, cursor });
        seen.push(...page.tasks.map((t) => t.id));
        if (!page.nextCursor) break;
        cursor = page.nextCursor;
      }
      return seen;
    };
    const ids = all.map((t) => t.id).reverse();
    expect(await walk({})).toEqual(ids);
    expect(await walk({ queue: 'a' })).toEqual(all.filter((_, i) => i % 3 === 0).map((t) => t.id).reverse());
    expect(await walk({ label: 'five' })).toEqual(all.filter((_, i) => i % 5 === 0).map((t) => t.id).reverse());
  });

  it('filters by status', async () => {
    const { store } = openStore();
    const [a, b] = await store.createTasks([newTask(), newTask()]);
    await store.cancelTask(a!.task.id, T0);
    expect((await store.listTasks({ status: 'cancelled', limit: 10 })).tasks.map((t) => t.id)).toEqual([a!.task.id]);
    expect((await store.listTasks({ status: 'pending', limit: 10 })).tasks.map((t) => t.id)).toEqual([b!.task.id]);
  });

  it('refuses a tampered cursor', async () => {
    const { store } = openStore();
    for (const bad of ['xyz', Buffer.from('v1:abc').toString('base64url'), '!!!', Buffer.from('v2:5').toString('base64url')]) {
      await expect(store.listTasks({ limit: 10, cursor: bad })).rejects.toBeInstanceOf(InvalidCursorError);
    }
  });

  it('keeps the claim, list and purge queries on indexes (EXPLAIN QUERY PLAN)', async () => {
    const { store } = openStore();
    const plan = (sql: string, ...args: unknown[]) =>
      (store.db.prepare('EXPLAIN QUERY PLAN ' + sql).all(...args) as { detail: string }[]).map((r) => r.detail).join(' | ');
    const claim = plan(`SELECT seq FROM tasks WHERE status = 'pending' AND queue = ? AND run_at <= ? ORDER BY priority DESC, run_at LIMIT 10`, 'q', 1);
    expect(claim).toMatch(/USING (COVERING )?INDEX tasks_due/);
    expect(claim).not.toMatch(/TEMP B-TREE/);
    const due = plan(`SELECT 1 FROM tasks WHERE status = 'pending' AND queue = ? AND run_at <= ? LIMIT 1`, 'q', 1);
    expect(due).toMatch(/USING (COVERING )?INDEX tasks_pending_run_at/);
    const byStatus = plan(`SELECT t.* FROM tasks t WHERE t.seq < ? AND t.status = 'completed' ORDER BY t.seq DESC LIMIT 50`, 1e9);
    expect(byStatus).toMatch(/USING (COVERING )?INDEX tasks_status/);
    expect(byStatus).not.toMatch(/TEMP B-TREE/);
    const byQueue = plan(`SELECT t.* FROM tasks t WHERE t.seq < ? AND t.queue = ? ORDER BY t.seq DESC LIMIT 50`, 1e9, 'q');
    expect(byQueue).toMatch(/USING (COVERING )?INDEX tasks_queue_seq/);
    expect(byQueue).not.toMatch(/TEMP B-TREE/);
    const byBoth = plan(`SELECT t.* FROM tasks t WHERE t.seq < ? AND t.queue = ? AND t.status = 'failed' ORDER BY t.seq DESC LIMIT 50`, 1e9, 'q');
    expect(byBoth).toMatch(/USING (COVERING )?INDEX tasks_queue_failed/);
    expect(byBoth).not.toMatch(/TEMP B-TREE/);
    const newest = plan(`SELECT t.* FROM tasks t WHERE t.seq < ? ORDER BY t.seq DESC LIMIT 50`, 1e9);
    expect(newest).not.toMatch(/TEMP B-TREE/);
    const label = plan(`SELECT t.* FROM task_labels l CROSS JOIN tasks t ON t.seq = l.seq WHERE l.seq < ? AND l.label = ? ORDER BY l.seq DESC LIMIT 50`, 1e9, 'x');
    expect(label).not.toMatch(/TEMP B-TREE/);
    const purge = plan(PURGE, 1, 10);
    expect(plan('DELETE FROM task_labels WHERE seq = ?', 1)).toMatch(/USING (COVERING )?INDEX task_labels_seq/);
    expect(purge).toMatch(/USING (COVERING )?INDEX tasks_expiry/);
    const webhooks = plan(`SELECT seq FROM tasks WHERE webhook_status = 'pending' AND webhook_run_at <= ? ORDER BY webhook_run_at LIMIT 10`, 1);
    expect(webhooks).toMatch(/USING (COVERING )?INDEX tasks_webhook_due/);
  });
});
