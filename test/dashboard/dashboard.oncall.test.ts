// The dashboard for the person on call, in chromium against a real server: search by label and
// by a payload field, the error column and "retry all failed", why a task stopped, the webhook
// delivery history with its re-deliver button, and schedules created and edited on the page.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { createTask, taskInput, waitForTask, waitForTerminal } from '../helpers/tasks.js';
import { HAVE_CHROMIUM, LAUNCH_HOOK_TIMEOUT_MS, launch, openPage } from './browser.js';

describe.skipIf(!HAVE_CHROMIUM)('dashboard for on-call, in chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  }, LAUNCH_HOOK_TIMEOUT_MS);
  afterAll(() => browser?.close());

  test('finds a task by payload field and label, shows errors, retries all failed, says why one stopped', async () => {
    const server = await startServer();
    let healthy = false;
    const target = await startTarget((req) =>
      req.path === '/invalid' ? { status: 422, headers: { 'AQ-No-Retry': 'true' }, body: 'bad range' } : healthy ? { status: 200 } : { status: 503, body: 'renderer down' },
    );
    const a = await createTask(server, taskInput(target.url + '/run', { payload: { jobId: 'job-a' }, labels: ['reports'], retries: 0 }));
    const b = await createTask(server, taskInput(target.url + '/run', { payload: { jobId: 'job-b' }, retries: 0 }));
    const bad = await createTask(server, taskInput(target.url + '/invalid', { payload: { jobId: 'job-c' }, retries: 3 }));
    for (const t of [a, b, bad]) await waitForTerminal(server, t.id);
    const { page, problems } = await openPage(browser);

    await page.goto(server.url + '/tasks');
    await page.getByLabel('Payload field').fill('jobId');
    await page.getByLabel('Payload value').fill('job-b');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/field=jobId&value=job-b/);
    expect(await page.locator('tr[data-id]').count()).toBe(1);
    expect(await page.locator(`tr[data-id="${b.id}"] .error-cell`).textContent()).toContain('http 503: HTTP 503 from POST');
    await expect.poll(() => page.locator('.search-note').textContent()).toContain('newest 10,000 tasks');

    await page.goto(server.url + '/tasks?label=reports');
    expect(await page.locator('tr[data-id]').count()).toBe(1);
    expect(await page.locator(`tr[data-id="${a.id}"]`).count()).toBe(1);

    await page.goto(server.url + '/tasks?status=failed');
    healthy = true;
    await page.getByRole('button', { name: 'Retry all failed…' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Retry all failed' }).click();
    for (const t of [a, b]) await waitForTask(server, t.id, (x) => x.status === 'completed');
    expect((await waitForTerminal(server, bad.id)).status).toBe('failed'); // AQ-No-Retry again, at once

    await page.goto(`${server.url}/tasks/${bad.id}`);
    const props = (await page.locator('dl.props').textContent())!;
    expect(props).toContain('stopped at once: the target answered AQ-No-Retry: true');
    expect(props).not.toContain('retries allowed');
    expect(problems).toEqual([]);
  });

  test('the task page lists every webhook delivery and re-delivers the outcome', async () => {
    const server = await startServer();
    const target = await startTarget();
    let up = false;
    const hook = await startTarget(() => ({ status: up ? 200 : 503 }));
    const task = await createTask(server, taskInput(target.url, { webhookUrl: hook.url, webhookRetries: 1 }));
    await waitForTask(server, task.id, (t) => t.webhook?.status === 'failed');
    const { page, problems, screenshot } = await openPage(browser);
    await page.goto(`${server.url}/tasks/${task.id}`);
    const rows = page.locator('table.deliveries tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).textContent()).toContain(`${task.id}.1`);
    expect(await rows.nth(1).textContent()).toContain('HTTP 503');
    expect(await page.locator('main').textContent()).toContain('2 deliveries tried');
    up = true;
    await page.getByRole('button', { name: 'Re-deliver' }).click();
    await waitForTask(server, task.id, (t) => t.webhook?.status === 'delivered');
    // The page re-reads itself every second while the delivery is due (no event announces it).
    await expect.poll(() => rows.count(), { timeout: 5000 }).toBe(3);
    await expect.poll(() => rows.nth(2).textContent(), { timeout: 5000 }).toContain('HTTP 200');
    expect(hook.requests.map((r) => r.headers['webhook-id'])).toEqual([`${task.id}.1`, `${task.id}.1`, `${task.id}.1`]);
    await screenshot('task-deliveries-1280');
    expect(problems).toEqual([]);
  });

  test('a schedule is created and edited on the page, and links to the tasks it made', async () => {
    const server = await startServer();
    const target = await startTarget();
    const { page, problems } = await openPage(browser);
    await page.goto(server.url + '/schedules');
    const create = page.getByRole('form', { name: 'New schedule' });
    await create.getByLabel('Id').fill('nightly');
    await create.getByLabel('Cron').fill('0 3 * * *');
    await create.getByLabel('Task (the create body, JSON)').fill(JSON.stringify({ targetUrl: target.url + '/report', payload: { kind: 'nightly' } }));
    await create.getByRole('button', { name: 'Create' }).click();
    await expect.poll(async () => (await server.api('/v1/schedules/nightly')).body).toMatchObject({ cron: '0 3 * * *', task: { targetUrl: target.url + '/report' } });
    const row = page.locator('#s-nightly');
    await row.waitFor();
    await row.getByText('Edit').click();
    const edit = page.getByRole('form', { name: 'Edit schedule nightly' });
    await edit.getByLabel('Cron').fill('30 4 * * *');
    await edit.getByRole('button', { name: 'Save' }).click();
    await expect.poll(async () => (await server.api('/v1/schedules/nightly')).body.cron).toBe('30 4 * * *');
    expect((await server.api('/v1/schedules/nightly')).body.task.payload).toEqual({ kind: 'nightly' });

    const fired = await server.api('/v1/schedules/nightly/trigger', { method: 'POST' });
    await page.goto(server.url + '/schedules');
    await page.locator('#s-nightly').getByRole('link', { name: 'its tasks' }).click();
    await page.waitForURL(/\/tasks\?schedule=nightly$/);
    await expect.poll(() => page.locator('tr[data-id]').count()).toBe(1);
    expect(await page.locator(`tr[data-id="${fired.body.id}"]`).count()).toBe(1);
    expect(problems).toEqual([]);
  });
});
