// The SDK against a real server and a real target: every tasks and queues method, waits,
// batches, pagination, errors with codes, auth, events, and signatures the target can verify.
import { describe, expect, it } from 'vitest';
import { AsyncQueue, AsyncQueueError, verifySignature, type Task, type TaskEvent } from '../../src/index.js';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput } from '../helpers/tasks.js';

const SECRET = 'whsec_' + Buffer.from('a test secret of 24 bytes').toString('base64');

async function setup(opts: { token?: string } = {}) {
  const server = await startServer({ signingSecret: SECRET, ...opts });
  const target = await startTarget((req) => (req.path === '/fail' ? { status: 500, headers: { 'AQ-No-Retry': 'true' }, body: { bad: true } } : { status: 200, body: { echo: req.json } }));
  const aq = new AsyncQueue({ url: server.url, token: opts.token });
  return { server, target, aq };
}

describe('tasks', () => {
  it('creates a task, waits for it and reads its result; the target can verify the signature', async () => {
    const { target, aq } = await setup();
    const task = await aq.tasks.create(taskInput(target.url + '/work', { payload: { n: 1 }, labels: ['sdk'] }));
    expect(task).toMatchObject({ status: 'pending', queue: 'default', labels: ['sdk'], payload: { n: 1 } });
    const done = await aq.tasks.waitFor(task.id, { timeout: 15 });
    expect(done).toMatchObject({ id: task.id, status: 'completed', attempts: 1, result: { echo: { n: 1 } } });
    const [req] = await target.waitForRequests(1);
    expect(verifySignature({ secret: SECRET, headers: req!.headers, body: req!.body })).toBe(true);
    expect(verifySignature({ secret: SECRET, headers: req!.headers, body: req!.body + ' ' })).toBe(false);
  });

  it('answers a create with wait only once the task is terminal', async () => {
    const { target, aq } = await setup();
    const task = await aq.tasks.create(taskInput(target.url + '/fail'), { wait: 15 });
    expect(task).toMatchObject({ status: 'failed', error: { type: 'http', status: 500 } });
    const attempts = await aq.tasks.attempts(task.id);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ n: 1, status: 500 });
  });

  it('returns the existing task for a repeated idempotency key, and for { idempotent: true } creates one', async () => {
    const { target, aq } = await setup();
    const a = await aq.tasks.create(taskInput(target.url, { idempotencyKey: 'order-42' }));
    const b = await aq.tasks.create(taskInput(target.url, { idempotencyKey: 'order-42' }));
    expect(b.id).toBe(a.id);
    const c = await aq.tasks.create(taskInput(target.url), { idempotent: true });
    expect(c.idempotencyKey).toMatch(/^aq_/);
  });

  it('creates 2100 tasks in three batches and walks them all back page by page', async () => {
    const { target, aq } = await setup();
    await aq.queues.pause('bulk');
    const inputs = Array.from({ length: 2100 }, (_, i) => ({ targetUrl: `${target.url}/${i}`, queue: 'bulk' }));
    const created = await aq.tasks.createMany(inputs);
    expect(created.map((t) => t.targetUrl)).toEqual(inputs.map((i) => i.targetUrl));
    const seen = new Set<string>();
    for await (const t of aq.tasks.iterate({ queue: 'bulk', limit: 500 })) seen.add(t.id);
    expect(seen.size).toBe(2100);
    const page = await aq.tasks.list({ queue: 'bulk', limit: 10 });
    expect(page.tasks).toHaveLength(10);
    expect(page.nextCursor).toEqual(expect.any(String));
  });

  it('cancels, retries and deletes tasks one by one and in bulk', async () => {
    const { target, aq } = await setup();
    await aq.queues.update('held', { paused: true });
    const [a, b, c] = await aq.tasks.createMany([0, 1, 2].map(() => taskInput(target.url, { queue: 'held', labels: ['x'] })));
    expect((await aq.tasks.cancel(a!.id)).status).toBe('cancelled');
    await expect(aq.tasks.cancel(a!.id)).rejects.toMatchObject({ status: 409, code: 'conflict' });
    expect((await aq.tasks.retry(a!.id)).status).toBe('pending');
    expect(await aq.tasks.cancelMany({ queue: 'held', label: 'x' })).toEqual({ count: 3 });
    expect(await aq.tasks.retryMany({ queue: 'held', status: 'cancelled' })).toEqual({ count: 3 });
    await aq.tasks.delete(b!.id);
    const err = await aq.tasks.get(b!.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AsyncQueueError);
    expect(err).toMatchObject({ status: 404, code: 'not_found' });
    expect((await aq.tasks.get(c!.id)).status).toBe('pending');
  });

  it('refuses an invalid task with code invalid_request and the failing field', async () => {
    const { aq } = await setup();
    const err = (await aq.tasks.create({ targetUrl: 'ftp://example.com' }).catch((e: unknown) => e)) as AsyncQueueError;
    expect(err).toMatchObject({ status: 400, code: 'invalid_request' });
    expect(JSON.stringify(err.details)).toContain('targetUrl');
  });
});

describe('queues, stats, health, auth and events', () => {
  it('lists and updates queues, and reports stats and health', async () => {
    const { target, aq } = await setup();
    await aq.tasks.create(taskInput(target.url, { queue: 'emails' }), { wait: 15 });
    const q = await aq.queues.update('emails', { concurrency: 2, ratePerSecond: 5 });
    expect(q).toMatchObject({ name: 'emails', concurrency: 2, ratePerSecond: 5, paused: false });
    expect((await aq.queues.list()).find((x) => x.name === 'emails')?.counts.completed).toBe(1);
    const stats = await aq.stats();
    expect(stats.counts.completed).toBe(1);
    expect(stats.queues.emails?.completed).toBe(1);
    expect(await aq.health()).toMatchObject({ ok: true });
  });

  it('sends the token, and says 401 unauthorized without it', async () => {
    const { aq, server } = await setup({ token: 'tok-1' });
    expect(await aq.stats()).toHaveProperty('counts');
    await expect(new AsyncQueue({ url: server.url }).stats()).rejects.toMatchObject({ status: 401, code: 'unauthorized' });
  });

  it('streams task events until the signal aborts', async () => {
    const { target, aq } = await setup();
    const stop = new AbortController();
    let opened!: () => void;
    const open = new Promise<void>((r) => (opened = r));
    const seen: TaskEvent[] = [];
    let notify = () => {};
    const reading = (async () => {
      for await (const ev of aq.events({ signal: stop.signal, onOpen: opened })) {
        seen.push(ev);
        notify();
      }
    })();
    await open;
    const task = await aq.tasks.create(taskInput(target.url));
    while (!seen.some((e) => e.id === task.id && e.status === 'completed')) await new Promise<void>((r) => (notify = r));
    stop.abort();
    await reading;
    expect(seen.filter((e) => e.id === task.id).map((e) => e.status)).toEqual(['pending', 'running', 'completed']);
    expect(seen[0]).toEqual({ id: task.id, queue: 'default', status: 'pending', attempts: 0, at: expect.any(String) });
  });
});
