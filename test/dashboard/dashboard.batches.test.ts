// The dashboard's batch page (api.md §13): progress, counts and members of a batch, its batch.done
// deliveries and Re-deliver button (§16); the task page links its batch and the chain steps
// before and after it. Over plain HTTP, no token.
import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/shared/types.js';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput, waitForTerminal } from '../helpers/tasks.js';

const page = async (url: string) => {
  const res = await fetch(url);
  return { status: res.status, html: await res.text() };
};

describe('dashboard: batches and chains', () => {
  it('a batch page shows its progress, counts and members; a member links back to it', async () => {
    const server = await startServer();
    const target = await startTarget((req) => (req.json === 0 ? { status: 400, headers: { 'AQ-No-Retry': 'true' } } : { status: 200 }));
    const r = await server.api('/v1/tasks/batch', { body: { tasks: [0, 1, 2].map((i) => taskInput(target.url, { payload: i })), batch: { labels: ['nightly'] } } });
    const id = r.body.batchId as string;
    for (;;) if ((await server.api(`/v1/batches/${id}?wait=30`)).body.done) break;
    const p = await page(`${server.url}/batches/${id}`);
    expect(p.status).toBe(200);
    expect(p.html).toContain('<progress id="batch-progress" max="3" value="3">');
    expect(p.html).toContain('3 of 3 ended (100%)');
    expect(p.html).toMatch(/data-count="failed">1</);
    expect(p.html).toMatch(/data-count="completed">2</);
    expect(p.html).toContain('nightly');
    expect(p.html).toContain('Retry failed tasks');
    for (const t of r.body.tasks as Task[]) expect(p.html).toContain(`/tasks/${t.id}`);
    const member = await page(`${server.url}/tasks/${(r.body.tasks as Task[])[1]!.id}`);
    expect(member.html).toContain(`href="/batches/${id}"`);
    const list = await page(`${server.url}/tasks?batch=${id}&status=failed`);
    expect(list.html).toContain(`of batch <a class="mono" href="/batches/${id}"`);
    expect(list.html).toContain(`/tasks/${(r.body.tasks as Task[])[0]!.id}`);
    expect(list.html).not.toContain(`/tasks/${(r.body.tasks as Task[])[1]!.id}"`);
    expect((await page(`${server.url}/batches/bat_missing`)).status).toBe(404);
  });

  it("a batch page lists its batch.done deliveries with a Re-deliver button once done, and none without a webhookUrl", async () => {
    const server = await startServer();
    const target = await startTarget();
    // The first batch.done meets a 503 asking for an hour's pause: the page shows it pending, polling.
    const hook = await startTarget((_r, i) => (i === 0 ? { status: 503, headers: { 'Retry-After': '3600' } } : { status: 200 }));
    expect((await server.api('/v1/queues/held', { method: 'PUT', body: { paused: true } })).status).toBe(200);
    const r = await server.api('/v1/tasks/batch', { body: { tasks: [taskInput(target.url, { queue: 'held' })], batch: { webhookUrl: hook.url } } });
    const id = r.body.batchId as string;
    const open = await page(`${server.url}/batches/${id}`);
    expect(open.html).toContain('<section id="r-deliveries" data-region');
    expect(open.html).toContain('No delivery yet.');
    expect(open.html).not.toContain('Re-deliver');

    expect((await server.api('/v1/tasks/cancel', { body: { batch: id } })).body).toEqual({ count: 1 });
    await hook.waitForRequests(1);
    while ((await server.api(`/v1/batches/${id}/deliveries`)).body.deliveries[0]?.durationMs == null);
    const pending = await page(`${server.url}/batches/${id}`);
    expect(pending.html).toContain('data-poll="1000"');
    expect(pending.html).toContain(`data-api-path="/v1/batches/${id}/redeliver"`);
    expect(pending.html).toContain(`<td class="mono">${id}.1</td>`);
    expect(pending.html).toContain('<strong>http</strong>');

    expect((await server.api(`/v1/batches/${id}/redeliver`, { method: 'POST' })).status).toBe(202);
    while ((await server.api(`/v1/batches/${id}`)).body.webhook.status !== 'delivered') await hook.waitForRequests(2);
    const delivered = await page(`${server.url}/batches/${id}`);
    expect(delivered.html).not.toContain('data-poll=');
    expect(delivered.html.match(new RegExp(`<td class="mono">${id}\\.1</td>`, 'g'))).toHaveLength(2);
    expect(delivered.html).toContain('HTTP 200');
    expect(delivered.html).toContain('(delivered, 2 attempts)');

    const plain = await server.api('/v1/tasks/batch', { body: { tasks: [taskInput(target.url, { queue: 'held' })] } });
    const none = await page(`${server.url}/batches/${plain.body.batchId}`);
    expect(none.status).toBe(200);
    expect(none.html).not.toContain('Webhook deliveries');
  });

  it('the task page links the task a chain step created, and that task links its parent', async () => {
    const server = await startServer();
    const target = await startTarget();
    const r = await server.api('/v1/tasks', { body: { ...taskInput(target.url), then: { targetUrl: target.url } } });
    const parent = await waitForTerminal(server, r.body.id);
    const p = await page(`${server.url}/tasks/${parent.id}`);
    expect(p.html).toContain(`id="next-link" href="/tasks/${parent.nextTaskId}"`);
    const child = await page(`${server.url}/tasks/${parent.nextTaskId}`);
    expect(child.html).toContain(`id="parent-link" href="/tasks/${parent.id}"`);
  });
});
