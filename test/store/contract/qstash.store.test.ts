// Shared store cases (SQLite and PostgreSQL), QStash support: a task's qstash record round-trips, follow-up tasks are
// created only with an applied decision, queues can be deleted when idle, URL groups.
import { describe, expect, test } from 'vitest';
import type { QstashMeta } from '../../../src/shared/qstash.js';
import { newTask, openStore, T0 } from './stores.js';

const meta: QstashMeta = {
  kind: 'message', sent: { 'upstash-retries': '2' }, contentType: 'text/plain', base64: false, retryDelay: '1000 * retried',
  callback: 'http://127.0.0.1:9/cb', failureCallback: null, urlGroup: null, endpointName: null, flowControl: null, notBefore: null, callerIp: '127.0.0.1',
};

describe('QStash records in the store', () => {
  test('a task keeps its qstash record from create through claim and read', async () => {
    const store = await openStore();
    const t = { ...newTask({ payload: 'hello' }), qstash: meta };
    const [r] = await store.createTasks([t]);
    expect(r!.task.qstash).toEqual(meta);
    expect((await store.getTask(t.id))!.qstash).toEqual(meta);
    const [claimed] = await store.claimTasks(new Map([['default', 1]]), T0);
    expect(claimed!.qstash).toEqual(meta);
    expect(claimed!.createdAt).toBe(T0);
    const [plain] = await store.createTasks([newTask()]);
    expect(plain!.task.qstash).toBeNull();
  });

  test('follow-up tasks are created only when the attempt decision is applied', async () => {
    const store = await openStore();
    const t = newTask();
    await store.createTasks([t]);
    const [c] = await store.claimTasks(new Map([['default', 1]]), T0);
    const follow = newTask({ targetUrl: 'http://127.0.0.1:9/cb' }, T0 + 1);
    const stale = newTask({ targetUrl: 'http://127.0.0.1:9/stale' }, T0 + 1);
    const finish = (followUps: typeof follow[], attempt: number) => ({
      id: c!.id, attempt, startedAt: T0, durationMs: 1, httpStatus: 200, next: { status: 'completed' as const, resultJson: null }, now: T0 + 1, followUps,
    });
    // A result for an attempt that is not the running one changes nothing and creates nothing.
    expect(await store.finishAttempts([finish([stale], 7)])).toEqual([false]);
    expect(await store.getTask(stale.id)).toBeUndefined();
    expect(await store.finishAttempts([finish([follow], 1)])).toEqual([true]);
    expect((await store.getTask(follow.id))!.status).toBe('pending');
  });

  test('a queue is deleted only when no pending or running task uses it, and comes back on use', async () => {
    const store = await openStore();
    await store.updateQueue('q1', { concurrency: 2 }, T0);
    const t = newTask({ queue: 'q1' });
    await store.createTasks([t]);
    expect(await store.deleteQueue('q1')).toBe(false);
    await store.cancelTask(t.id, T0);
    expect(await store.deleteQueue('q1')).toBe(true);
    expect(await store.getQueue('q1')).toBeUndefined();
    expect(await store.deleteQueue('q1')).toBe(false);
    await store.createTasks([newTask({ queue: 'q1' })]);
    expect((await store.getQueue('q1'))!.concurrency).toBeNull();
    expect((await store.queueLimits()).map((q) => q.name)).toContain('q1');
  });

  test('URL groups: endpoints added, renamed, removed by url or name; the group ends with its last endpoint', async () => {
    const store = await openStore();
    await store.addUrlGroupEndpoints('g', [{ url: 'http://a/1', name: null }, { url: 'http://a/2', name: 'two' }], T0);
    const g = await store.addUrlGroupEndpoints('g', [{ url: 'http://a/1', name: 'one' }], T0 + 5);
    expect(g).toEqual({ name: 'g', createdAt: T0, updatedAt: T0 + 5, endpoints: [{ url: 'http://a/1', name: 'one' }, { url: 'http://a/2', name: 'two' }] });
    await store.addUrlGroupEndpoints('h', [{ url: 'http://b', name: null }], T0);
    expect((await store.listUrlGroups()).map((x) => x.name)).toEqual(['g', 'h']);
    expect(await store.removeUrlGroupEndpoints('g', [{ name: 'two' }], T0 + 6)).toBe(1);
    expect(await store.removeUrlGroupEndpoints('g', [{ url: 'http://nope' }], T0 + 6)).toBe(0);
    expect((await store.getUrlGroup('g'))!.endpoints).toEqual([{ url: 'http://a/1', name: 'one' }]);
    expect(await store.removeUrlGroupEndpoints('g', [{ url: 'http://a/1' }], T0 + 7)).toBe(1);
    expect(await store.getUrlGroup('g')).toBeUndefined();
    expect(await store.deleteUrlGroup('h')).toBe(true);
    expect(await store.deleteUrlGroup('h')).toBe(false);
  });
});
