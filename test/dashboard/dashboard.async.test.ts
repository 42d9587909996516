// The task page shows why a task waits (api.md §11) with its plan as a timeline, and an awaiting
// async attempt (§10) with its deadline and last heartbeat; fetched over plain HTTP.
import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { createTask, taskInput, waitForTask } from '../helpers/tasks.js';

const page = async (url: string) => {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  return res.text();
};

describe('dashboard task page', () => {
  it('shows the waiting reason in words and the plan as a timeline', async () => {
    const server = await startServer();
    const target = await startTarget(() => ({ status: 503 }));
    const task = await createTask(server, taskInput(target.url, { retries: 2, backoff: { initial: 600, factor: 2, max: 3600 } }));
    await waitForTask(server, task.id, (t) => t.status === 'pending' && t.attempts === 1);
    const html = await page(`${server.url}/tasks/${task.id}`);
    expect(html).toMatch(/<p id="waiting" data-reason="backoff"><strong>Waiting<\/strong> \(backoff\): retry 1 of 2 after HTTP 503; not before /);
    expect(html).toContain('If every attempt fails');
    expect(html.match(/class="t-planned"/g)).toHaveLength(2);
    expect(html).toMatch(/<span class="n">Gives up<\/span><time datetime="\d{4}-/);
  });

  it('shows an awaiting attempt with its deadline and last heartbeat', async () => {
    const server = await startServer();
    const target = await startTarget(() => ({ status: 202 }));
    const task = await createTask(server, taskInput(target.url, { async: { timeout: 3600, heartbeat: 60 } }));
    const [req] = await target.waitForRequests(1);
    await waitForTask(server, task.id, (t) => t.awaiting !== null);
    const before = await page(`${server.url}/tasks/${task.id}`);
    expect(before).toMatch(/<strong>Awaiting completion<\/strong> of attempt 1: the target answered 202/);
    expect(before).toContain('last heartbeat none yet (every 60 s expected)');
    const beat = await server.api(`/v1/tasks/${task.id}/heartbeat`, { body: {}, headers: { authorization: `Bearer ${String(req!.headers['aq-completion-token'])}` } });
    const after = await page(`${server.url}/tasks/${task.id}`);
    expect(after).toContain(`deadline <time datetime="${beat.body.deadline}">`);
    expect(after).toMatch(/last heartbeat <time datetime="\d{4}-[^"]+">just now<\/time>/);
    expect(after).toContain('HTTP 202 → awaiting completion');
  });
});
