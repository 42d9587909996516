// /metrics: Prometheus text from a per-server registry, counters fed by task events, attempt
// and webhook hooks, gauges read from the store at scrape time, and the bearer token guard.
import { register as globalRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { createTask, taskInput, waitForTask, waitForTerminal } from '../helpers/tasks.js';
import { families, sample } from './prom.js';

async function scrape(server: TestServer): Promise<string> {
  const r = await server.api('/metrics');
  expect(r.status).toBe(200);
  expect(r.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return r.body as string;
}

describe('/metrics', () => {
  it('counts tasks created, dispatched, completed, failed and retried by queue, with attempt durations', async () => {
    const server = await startServer();
    const seen = new Map<string, number>();
    const target = await startTarget((req) => {
      const mode = req.json.mode as string;
      const n = (seen.get(mode) ?? 0) + 1;
      seen.set(mode, n);
      if (mode === 'flaky' && n === 1) return { status: 503 };
      if (mode === 'bad') return { status: 422, headers: { 'AQ-No-Retry': 'true' } };
      return { status: 200, body: { ok: true } };
    });
    const ok = await createTask(server, taskInput(target.url, { queue: 'emails', payload: { mode: 'ok' } }));
    const flaky = await createTask(server, taskInput(target.url, { queue: 'emails', payload: { mode: 'flaky' } }));
    const bad = await createTask(server, taskInput(target.url, { queue: 'reports', payload: { mode: 'bad' } }));
    expect((await waitForTerminal(server, ok.id)).status).toBe('completed');
    expect((await waitForTerminal(server, flaky.id)).status).toBe('completed');
    expect((await waitForTerminal(server, bad.id)).status).toBe('failed');

    const text = await scrape(server);
    const emails = { queue: 'emails' };
    const reports = { queue: 'reports' };
    expect(sample(text, 'asyncqueue_tasks_created_total', emails)).toBe(2);
    expect(sample(text, 'asyncqueue_tasks_created_total', reports)).toBe(1);
    expect(sample(text, 'asyncqueue_tasks_dispatched_total', emails)).toBe(3);
    expect(sample(text, 'asyncqueue_tasks_completed_total', emails)).toBe(2);
    expect(sample(text, 'asyncqueue_tasks_retried_total', emails)).toBe(1);
    expect(sample(text, 'asyncqueue_tasks_failed_total', reports)).toBe(1);
    expect(sample(text, 'asyncqueue_attempt_duration_seconds_count', { queue: 'emails', outcome: 'completed' })).toBe(2);
    expect(sample(text, 'asyncqueue_attempt_duration_seconds_count', { queue: 'emails', outcome: 'retry' })).toBe(1);
    expect(sample(text, 'asyncqueue_attempt_duration_seconds_count', { queue: 'reports', outcome: 'failed' })).toBe(1);
    expect(sample(text, 'asyncqueue_attempt_duration_seconds_bucket', { queue: 'emails', outcome: 'completed', le: '+Inf' })).toBe(2);
    expect(sample(text, 'asyncqueue_tasks', { queue: 'emails', status: 'completed' })).toBe(2);
    expect(sample(text, 'asyncqueue_in_flight')).toBe(0);

    const types = families(text);
    expect(types.get('asyncqueue_tasks_created_total')).toBe('counter');
    expect(types.get('asyncqueue_attempt_duration_seconds')).toBe('histogram');
    expect(types.get('asyncqueue_queue_depth')).toBe('gauge');
    expect(types.get('process_cpu_user_seconds_total')).toBe('counter');
    expect(types.get('nodejs_heap_size_used_bytes')).toBe('gauge');
  });

  it('reports queue depth and paused queues as read from the store at scrape time', async () => {
    const server = await startServer();
    expect((await server.api('/v1/queues/held', { method: 'PUT', body: { paused: true } })).status).toBe(200);
    for (let i = 0; i < 3; i++) await createTask(server, taskInput('http://127.0.0.1:9/never', { queue: 'held' }));
    let text = await scrape(server);
    expect(sample(text, 'asyncqueue_queue_depth', { queue: 'held' })).toBe(3);
    expect(sample(text, 'asyncqueue_queue_paused', { queue: 'held' })).toBe(1);
    expect(sample(text, 'asyncqueue_tasks', { queue: 'held', status: 'pending' })).toBe(3);

    const list = (await server.api('/v1/tasks?queue=held')).body.tasks as { id: string }[];
    expect((await server.api(`/v1/tasks/${list[0]!.id}/cancel`, { method: 'POST' })).status).toBe(200);
    text = await scrape(server);
    expect(sample(text, 'asyncqueue_queue_depth', { queue: 'held' })).toBe(2);
    expect(sample(text, 'asyncqueue_tasks_cancelled_total', { queue: 'held' })).toBe(1);
  });

  it('counts webhook deliveries by outcome', async () => {
    const server = await startServer();
    const worker = await startTarget();
    const hook = await startTarget((_req, i) => (i === 0 ? { status: 500 } : { status: 204 }));
    const task = await createTask(server, taskInput(worker.url, { webhookUrl: hook.url + '/hook', webhookRetries: 2 }));
    await waitForTask(server, task.id, (t) => t.webhook?.status === 'delivered');
    const text = await scrape(server);
    expect(sample(text, 'asyncqueue_webhook_deliveries_total', { outcome: 'retry' })).toBe(1);
    expect(sample(text, 'asyncqueue_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1);
    expect(sample(text, 'asyncqueue_webhook_delivery_duration_seconds_count', { outcome: 'delivered' })).toBe(1);
  });

  it('keeps two servers in one process apart, and leaves the global registry alone', async () => {
    const a = await startServer();
    const b = await startServer();
    await createTask(a, taskInput('http://127.0.0.1:9/never', { queue: 'only-a', delay: 3600 }));
    expect(sample(await scrape(a), 'asyncqueue_tasks_created_total', { queue: 'only-a' })).toBe(1);
    expect(sample(await scrape(b), 'asyncqueue_tasks_created_total', { queue: 'only-a' })).toBeUndefined();
    expect(await globalRegistry.metrics()).not.toContain('asyncqueue_');
  });

  it('needs the bearer token when the server has one', async () => {
    const server = await startServer({ token: 'metrics-token' });
    const res = await fetch(server.url + '/metrics');
    expect(res.status).toBe(401);
    expect(await res.text()).not.toContain('asyncqueue_');
    expect((await scrape(server)).length).toBeGreaterThan(0);
  });
});
