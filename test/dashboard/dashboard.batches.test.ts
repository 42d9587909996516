// The dashboard's batch page (api.md §13): progress, counts and members of a batch; the task
// page links its batch and the chain steps before and after it. Over plain HTTP, no token.
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
