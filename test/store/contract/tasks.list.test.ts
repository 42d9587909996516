// Shared store cases (SQLite and PostgreSQL): listing with cursors and filters.
import { describe, expect, it } from 'vitest';
import { InvalidCursorError, InvalidFilterError } from '../../../src/store/store.js';
import { newTask, openStore, T0 } from './stores.js';

describe('listing tasks', () => {
  it('walks thousands of tasks newest first with cursors, without repeats or gaps', async () => {
    const store = await openStore();
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
    const store = await openStore();
    const [a, b] = await store.createTasks([newTask(), newTask()]);
    await store.cancelTask(a!.task.id, T0);
    expect((await store.listTasks({ status: 'cancelled', limit: 10 })).tasks.map((t) => t.id)).toEqual([a!.task.id]);
    expect((await store.listTasks({ status: 'pending', limit: 10 })).tasks.map((t) => t.id)).toEqual([b!.task.id]);
  });

  it('refuses an unknown status as a bad filter (not a bad cursor), naming the field', async () => {
    const store = await openStore();
    const err = await store.listTasks({ status: "done' OR 1=1 --" as never, limit: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidFilterError);
    expect(err).toMatchObject({ field: 'status' });
  });

  it('refuses a tampered cursor', async () => {
    const store = await openStore();
    for (const bad of ['xyz', Buffer.from('v1:abc').toString('base64url'), '!!!', Buffer.from('v2:5').toString('base64url')]) {
      await expect(store.listTasks({ limit: 10, cursor: bad })).rejects.toBeInstanceOf(InvalidCursorError);
    }
  });
});
