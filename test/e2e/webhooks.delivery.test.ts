// Webhook delivery (api.md §5) to a real receiver: retried until delivered, given up after
// webhookRetries, signed, and never a change to the task's own status.
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateSecret } from '../../src/shared/signing.js';
import { startServer } from '../helpers/server.js';
import { countCalls } from '../helpers/clock.js';
import { startTarget } from '../helpers/target.js';
import { createTask, taskInput, waitForTask } from '../helpers/tasks.js';

describe('webhooks', () => {
  it('a receiver answering 500 twice gets the webhook on delivery 3; the task stays completed', async () => {
    const secret = generateSecret();
    const server = await startServer({ signingSecret: secret });
    const target = await startTarget(() => ({ status: 200, body: { v: 1 } }));
    const hook = await startTarget((_r, i) => (i < 2 ? { status: 500, body: 'down' } : { status: 200 }));
    const task = await createTask(server, taskInput(target.url, { webhookUrl: hook.url + '/h' }));
    const completed = await waitForTask(server, task.id, (t) => t.status === 'completed');
    const done = await waitForTask(server, task.id, (t) => t.webhook?.status === 'delivered');
    expect(done).toMatchObject({ status: 'completed', attempts: 1, result: { v: 1 }, webhook: { status: 'delivered', attempts: 3 } });
    expect(done.completedAt).toBe(completed.completedAt);
    expect(hook.requests).toHaveLength(3);
    for (const [i, r] of hook.requests.entries()) {
      expect(r.headers['aq-delivery-attempt']).toBe(String(i + 1));
      expect(new Webhook(secret).verify(r.body, r.headers as Record<string, string>)).toMatchObject({ id: task.id, status: 'completed', result: { v: 1 } });
    }
    expect(new Set(hook.requests.map((r) => r.body)).size).toBe(1); // the same body each time
    expect(target.requests).toHaveLength(1);
  });

  it('a failed task sends a failed webhook with its error', async () => {
    const server = await startServer();
    const target = await startTarget(() => ({ status: 400, headers: { 'AQ-No-Retry': 'true' } }));
    const hook = await startTarget();
    const task = await createTask(server, taskInput(target.url, { webhookUrl: hook.url, payload: 'p' }));
    const [h] = await hook.waitForRequests(1);
    expect(h!.json).toMatchObject({ id: task.id, status: 'failed', payload: 'p', result: null, error: { type: 'http', status: 400 }, attempts: 1 });
    const done = await waitForTask(server, task.id, (t) => t.webhook?.status === 'delivered');
    expect(done.status).toBe('failed');
  });

  it('a receiver that never accepts is given up after webhookRetries; the task stays completed', async () => {
    const server = await startServer();
    const target = await startTarget();
    const hook = await startTarget(() => ({ status: 503 }));
    const task = await createTask(server, taskInput(target.url, { webhookUrl: hook.url, webhookRetries: 2 }));
    const done = await waitForTask(server, task.id, (t) => t.webhook?.status === 'failed');
    expect(done).toMatchObject({ status: 'completed', webhook: { status: 'failed', attempts: 3, error: { type: 'http', status: 503 } } });
    expect(hook.requests).toHaveLength(3);
  });

  it('while every delivery slot is busy the sender waits for one to free instead of polling the store', async () => {
    const server = await startServer({ webhookConcurrency: 1 });
    const target = await startTarget();
    const hook = await startTarget((_r, i) => (i === 0 ? { hang: true } : { status: 200 }));
    const tasks = [];
    for (let i = 0; i < 3; i++) tasks.push(await createTask(server, taskInput(target.url, { webhookUrl: hook.url, timeout: 1 })));
    await hook.waitForRequests(1);
    // The other two deliveries are due while the only slot hangs: a finishing delivery will wake
    // the sender, so it arms no timer for them (one for a due time fired every millisecond) and
    // reads nothing on its wakes.
    for (const t of tasks) await waitForTask(server, t.id, (x) => x.status === 'completed' && x.webhook?.status === 'pending');
    const reads = countCalls(server.store, 'nextDeliveryAt');
    const claims = countCalls(server.store, 'claimDeliveries');
    for (let i = 0; i < 5; i++) {
      server.webhooks.wake();
      await new Promise((r) => setImmediate(r));
    }
    expect(server.webhooks.wakeAt).toBeUndefined();
    expect([reads.calls.length, claims.calls.length]).toEqual([0, 0]);
    expect(hook.requests).toHaveLength(1);
    // When the hung delivery times out (timeout: 1), the others follow.
    for (const t of tasks) expect((await waitForTask(server, t.id, (x) => x.webhook?.status === 'delivered')).status).toBe('completed');
  });

  it('a task without a webhookUrl has no webhook state', async () => {
    const server = await startServer();
    const target = await startTarget();
    const task = await createTask(server, taskInput(target.url));
    expect(await waitForTask(server, task.id, (t) => t.status === 'completed')).toMatchObject({ webhook: null });
  });
});
