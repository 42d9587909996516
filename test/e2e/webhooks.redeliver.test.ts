// Outcome webhook ids, delivery history, re-delivery and the signing secret (api.md §16),
// against a real server, target and receiver.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { AsyncQueue, AsyncQueueError } from '../../src/index.js';
import { generateSecret } from '../../src/shared/signing.js';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { createTask, taskInput, waitForTask } from '../helpers/tasks.js';

describe('outcome webhooks', () => {
  it('each outcome has its own webhook-id <task id>.<n>, kept by its re-deliveries; dispatches keep the task id', async () => {
    const secret = generateSecret();
    const server = await startServer({ signingSecret: secret });
    const target = await startTarget((_r, i) => (i === 0 ? { status: 422, headers: { 'AQ-No-Retry': 'true' } } : { status: 200, body: { v: 2 } }));
    const hook = await startTarget();
    const aq = new AsyncQueue({ url: server.url });
    const task = await createTask(server, taskInput(target.url, { webhookUrl: hook.url }));
    await waitForTask(server, task.id, (t) => t.webhook?.status === 'delivered');
    await aq.tasks.retry(task.id);
    await waitForTask(server, task.id, (t) => t.status === 'completed' && t.webhook?.status === 'delivered');
    const again = await aq.tasks.redeliver(task.id);
    expect(again).toMatchObject({ id: task.id, status: 'completed', webhook: { status: 'pending' } });
    const hooks = await hook.waitForRequests(3);
    expect(hooks.map((r) => r.headers['webhook-id'])).toEqual([`${task.id}.1`, `${task.id}.2`, `${task.id}.2`]);
    expect(hooks.map((r) => r.json.status)).toEqual(['failed', 'completed', 'completed']);
    expect(hooks[2]!.body).toBe(hooks[1]!.body);
    for (const r of hooks) {
      expect(r.headers['aq-task-id']).toBe(task.id);
      expect(new Webhook(secret).verify(r.body, r.headers as Record<string, string>)).toMatchObject({ id: task.id });
    }
    expect(target.requests.map((r) => r.headers['webhook-id'])).toEqual([task.id, task.id]);
    await waitForTask(server, task.id, (t) => t.webhook?.status === 'delivered');
    const deliveries = await aq.tasks.deliveries(task.id);
    expect(deliveries.map((d) => [d.outcome, d.attempt, d.status])).toEqual([[1, 1, 200], [2, 1, 200], [2, 2, 200]]);
    expect(deliveries.every((d) => typeof d.durationMs === 'number')).toBe(true);
    expect(await server.api(`/v1/tasks/${task.id}/deliveries`)).toMatchObject({ status: 200, body: { deliveries } });
  });

  it('a webhook given up while the receiver was down is re-sent by filter once it is back, and the history shows each try', async () => {
    const server = await startServer();
    const target = await startTarget();
    let up = false;
    const hook = await startTarget(() => (up ? { status: 200 } : { status: 503 }));
    const aq = new AsyncQueue({ url: server.url });
    const a = await createTask(server, taskInput(target.url, { webhookUrl: hook.url, webhookRetries: 1, labels: ['reports'] }));
    const b = await createTask(server, taskInput(target.url, { webhookUrl: hook.url, webhookRetries: 1 }));
    for (const t of [a, b]) await waitForTask(server, t.id, (x) => x.webhook?.status === 'failed');
    up = true;
    expect(await aq.tasks.redeliverMany({ webhookStatus: 'failed', label: 'reports' })).toEqual({ count: 1 });
    expect((await waitForTask(server, a.id, (x) => x.webhook?.status === 'delivered')).webhook).toEqual({ status: 'delivered', attempts: 3, error: null });
    expect((await aq.tasks.get(b.id)).webhook!.status).toBe('failed');
    expect((await aq.tasks.deliveries(a.id)).map((d) => [d.attempt, d.status ?? d.error?.type])).toEqual([[1, 503], [2, 503], [3, 200]]);
    expect(await aq.tasks.redeliverMany({ webhookStatus: 'failed' })).toEqual({ count: 1 });
    await waitForTask(server, b.id, (x) => x.webhook?.status === 'delivered');
  });

  it('re-delivery answers 202, and 409 for a task with no outcome to send, 404 naming a missing id', async () => {
    const server = await startServer();
    const target = await startTarget();
    const plain = await createTask(server, taskInput(target.url));
    await waitForTask(server, plain.id, (t) => t.status === 'completed');
    const pending = await createTask(server, taskInput(target.url, { webhookUrl: target.url, delay: 3600 }));
    for (const id of [plain.id, pending.id]) {
      expect(await server.api(`/v1/tasks/${id}/redeliver`, { method: 'POST' })).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    }
    expect(await server.api('/v1/tasks/tsk_missing/redeliver', { method: 'POST' })).toMatchObject({ status: 404, body: { error: { message: 'task tsk_missing not found' } } });
    expect(await server.api('/v1/tasks/tsk_missing/deliveries')).toMatchObject({ status: 404 });
    expect(await server.api('/v1/tasks/redeliver', { body: {} })).toMatchObject({ status: 400, body: { error: { code: 'invalid_request' } } });
    expect(await server.api('/v1/tasks/redeliver', { body: { webhookStatus: 'lost' } })).toMatchObject({ status: 400 });
    const done = await createTask(server, taskInput(target.url, { webhookUrl: target.url }));
    await waitForTask(server, done.id, (t) => t.webhook?.status === 'delivered');
    expect(await server.api(`/v1/tasks/${done.id}/redeliver`, { method: 'POST' })).toMatchObject({ status: 202, body: { id: done.id, webhook: { status: 'pending' } } });
    const err = await new AsyncQueue({ url: server.url }).tasks.get('tsk_gone').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AsyncQueueError);
    expect((err as Error).message).toBe('task tsk_gone not found');
  });
});

describe('the signing secret', () => {
  it('GET /v1/signing-secret gives the generated secret (needing the token), the same one the embedded server exposes', async () => {
    const server = await startServer({ token: 'tok' });
    expect(await server.api('/v1/signing-secret', { headers: { authorization: '' } })).toMatchObject({ status: 401 });
    const r = await server.api('/v1/signing-secret');
    expect(r).toMatchObject({ status: 200, body: { source: 'database' } });
    expect(r.body.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(server.signingSecret).toBe(r.body.secret);
    expect(server.signingSecretSource).toBe('database');
    expect(await new AsyncQueue({ url: server.url, token: 'tok' }).signingSecret()).toEqual(r.body);
  });

  it('a configured secret is reported with source config', async () => {
    const secret = generateSecret();
    const server = await startServer({ signingSecret: secret });
    expect((await server.api('/v1/signing-secret')).body).toEqual({ secret, source: 'config' });
  });
});
