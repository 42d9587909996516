// The dashboard in a real browser (Debian's chromium via playwright-core) against a real
// server and target: overview, live task list, task detail and its actions, login.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { createTask, taskInput, waitForTask, waitForTerminal } from '../helpers/tasks.js';
import { HAVE_CHROMIUM, LAUNCH_HOOK_TIMEOUT_MS, launch, openPage } from './browser.js';

describe.skipIf(!HAVE_CHROMIUM)('dashboard in chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  }, LAUNCH_HOOK_TIMEOUT_MS);
  afterAll(() => browser?.close());

  test('the overview shows counts, the chart and the queues, and pauses and limits a queue', async () => {
    const server = await startServer();
    const target = await startTarget((req) => (req.path === '/fail' ? { status: 500 } : { status: 200, body: { ok: true } }));
    const ok = await createTask(server, taskInput(target.url, { queue: 'emails' }));
    const bad = await createTask(server, taskInput(target.url + '/fail', { retries: 0 }));
    await Promise.all([waitForTerminal(server, ok.id), waitForTerminal(server, bad.id)]);
    const { page, problems, screenshot } = await openPage(browser);

    await page.goto(server.url + '/');
    await expect.poll(() => page.locator('h1').textContent()).toBe('Overview');
    expect(await page.locator('a.card.s-completed .n').textContent()).toBe('1');
    expect(await page.locator('a.card.s-failed .n').textContent()).toBe('1');
    expect(await page.locator('.chart svg rect.bar-dispatched').count()).toBe(60);
    const emails = page.locator('table.queues tr', { has: page.locator('th a', { hasText: 'emails' }) });
    await expect.poll(() => emails.locator('.badge').textContent()).toBe('active');
    await screenshot('overview-1280');

    await emails.getByRole('button', { name: 'Pause emails' }).click();
    await expect.poll(() => emails.locator('.badge').textContent()).toBe('paused');
    expect((await server.api('/v1/queues')).body.queues.find((q: any) => q.name === 'emails').paused).toBe(true);
    await emails.getByLabel('Concurrency of emails').fill('5');
    await emails.getByLabel('Rate limit of emails').fill('2.5');
    await emails.getByRole('button', { name: 'Save' }).press('Enter');
    await expect.poll(async () => (await server.api('/v1/queues')).body.queues.find((q: any) => q.name === 'emails')).toMatchObject({ concurrency: 5, ratePerSecond: 2.5 });
    await emails.getByRole('button', { name: 'Resume emails' }).click();
    await expect.poll(() => emails.locator('.badge').textContent()).toBe('active');

    await page.setViewportSize({ width: 375, height: 800 });
    await screenshot('overview-375');
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    expect(problems).toEqual([]);
  });

  test('a task created through the API appears in the list without a reload', async () => {
    const server = await startServer();
    const target = await startTarget((req) => (req.path === '/hang' ? { hang: true } : { status: req.path === '/ok' ? 200 : 503 }));
    const earlier = [
      await createTask(server, taskInput(target.url + '/ok', { queue: 'emails' })),
      await createTask(server, taskInput(target.url + '/down', { retries: 1, labels: ['nightly'] })),
    ];
    for (const t of earlier) await waitForTerminal(server, t.id);
    const { page, problems, screenshot } = await openPage(browser);
    await page.goto(server.url + '/tasks');
    expect(await page.locator('tr[data-id]').count()).toBe(2);
    await expect.poll(() => page.locator('#live').textContent()).toBe('live');
    await page.evaluate(() => ((window as any).notReloaded = true));

    const task = await createTask(server, taskInput(target.url + '/hang'));
    const row = page.locator(`tr[data-id="${task.id}"]`);
    await row.waitFor();
    await expect.poll(() => row.locator('.badge').textContent()).toBe('running');
    expect(await page.evaluate(() => (window as any).notReloaded)).toBe(true);
    await screenshot('tasks-1280');

    await page.getByLabel('State').selectOption('failed');
    await page.waitForURL(/\/tasks\?status=failed$/);
    expect(await page.locator('tr[data-id]').count()).toBe(1);
    await page.getByLabel('Task id').fill(task.id);
    await page.getByLabel('Task id').press('Enter');
    await page.waitForURL(`**/tasks/${task.id}`);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.locator('.title-row .badge').textContent()).toBe('cancelled');
    expect((await server.api(`/v1/tasks/${task.id}`)).body.status).toBe('cancelled');
    expect(problems).toEqual([]);
  });

  test('the detail shows a retry-then-success run with masked headers; retry and delete work', async () => {
    const server = await startServer();
    const seen = new Map<string, number>();
    const target = await startTarget((req) => {
      const n = (seen.get(req.path) ?? 0) + 1;
      seen.set(req.path, n);
      return n === 1 ? { status: 500, body: { error: 'boom' } } : { status: 200, body: { sent: true, path: req.path } };
    });
    const headers = { Authorization: 'Bearer sk-very-secret', 'X-Api-Key': 'key-12345', 'X-Trace': 'trace-visible' };
    const task = await createTask(server, taskInput(target.url + '/flaky', { headers, payload: { order: 42, items: ['a', 'b'] } }));
    expect((await waitForTerminal(server, task.id)).status).toBe('completed');
    const { page, problems, screenshot } = await openPage(browser);

    await page.goto(`${server.url}/tasks/${task.id}`);
    const steps = page.locator('ol.timeline li');
    expect(await steps.count()).toBe(2);
    expect(await steps.nth(0).textContent()).toContain('HTTP 500');
    expect(await steps.nth(1).textContent()).toContain('HTTP 200');
    const text = (await page.locator('main').textContent())!;
    expect(text).toContain('trace-visible');
    expect(text).toContain('"order": 42');
    expect(text).not.toContain('sk-very-secret');
    expect(text).not.toContain('key-12345');
    await screenshot('task-detail-1280');
    await page.setViewportSize({ width: 375, height: 800 });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(375);
    await screenshot('task-detail-375');
    await page.setViewportSize({ width: 1280, height: 800 });

    const failed = await createTask(server, taskInput(target.url + '/once', { retries: 0 }));
    expect((await waitForTerminal(server, failed.id)).status).toBe('failed');
    await page.goto(`${server.url}/tasks/${failed.id}`);
    await page.getByRole('button', { name: 'Retry' }).click();
    await waitForTask(server, failed.id, (t) => t.status === 'completed');
    await expect.poll(() => page.locator('.title-row .badge').textContent()).toBe('completed');
    await expect.poll(() => page.locator('ol.timeline li').count()).toBe(2);

    await page.getByRole('button', { name: 'Delete…' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Keep it' }).press('Enter');
    expect((await server.api(`/v1/tasks/${failed.id}`)).status).toBe(200);
    await page.getByRole('button', { name: 'Delete…' }).click();
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.waitForURL(`${server.url}/tasks`);
    expect((await server.api(`/v1/tasks/${failed.id}`)).status).toBe(404);
    expect(problems).toEqual([]);
  });

  test('the schedules page lists schedules and pauses, resumes and triggers them (or says the API is absent)', async () => {
    const server = await startServer();
    const target = await startTarget();
    const created = await server.api('/v1/schedules', { body: { id: 'nightly-report', cron: '0 3 * * *', task: taskInput(target.url, { queue: 'reports' }) } });
    const { page, problems, screenshot } = await openPage(browser);
    await page.goto(server.url + '/schedules');
    if (created.status === 404) {
      await expect.poll(() => page.locator('#r-schedules').textContent()).toContain('no schedules API yet');
      return;
    }
    expect(created.status, JSON.stringify(created.body)).toBeLessThan(300);
    const row = page.locator('tr', { has: page.locator('th', { hasText: 'nightly-report' }) });
    expect(await row.textContent()).toContain('0 3 * * *');
    await row.getByRole('button', { name: 'Pause schedule nightly-report' }).click();
    await expect.poll(async () => (await server.api('/v1/schedules/nightly-report')).body.paused).toBe(true);
    await row.getByRole('button', { name: 'Resume schedule nightly-report' }).click();
    await expect.poll(async () => (await server.api('/v1/schedules/nightly-report')).body.paused).toBe(false);
    await row.getByRole('button', { name: 'Trigger schedule nightly-report now' }).click();
    await target.waitForRequests(1);
    await screenshot('schedules-1280');
    expect(problems).toEqual([]);
  });

  test('the login form gates a server with a token, and the session cookie works for actions', async () => {
    const token = 'tok-dashboard-secret-1';
    const server = await startServer({ token });
    const target = await startTarget((req) =>
      req.path === '/elsewhere' ? { headers: { 'content-type': 'text/html' }, body: `<a href="${server.url}/tasks/${task.id}">open the task</a>` } : { status: 200 },
    );
    const task = await createTask(server, taskInput(target.url, { delay: 3600 }));
    const { page, problems } = await openPage(browser);

    await page.goto(`${server.url}/tasks/${task.id}`);
    await page.waitForURL(/\/login\?next=/);
    expect(await page.locator('main').textContent()).not.toContain(task.id);
    await page.getByLabel('Token').fill('wrong-token');
    await page.getByLabel('Token').press('Enter');
    await expect.poll(() => page.getByRole('alert').textContent()).toContain('not valid');

    await page.getByLabel('Token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(`${server.url}/tasks/${task.id}`);
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: 'aq_session', httpOnly: true, sameSite: 'Strict' });
    expect(cookie!.value).not.toContain(token);

    await page.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.locator('.title-row .badge').textContent()).toBe('cancelled');
    expect((await server.api(`/v1/tasks/${task.id}`)).body.status).toBe('cancelled');

    // A link on another site (localhost is another site than 127.0.0.1): the Strict cookie is not
    // sent on that navigation, and the page reloads itself once so that it is.
    await page.goto(target.url.replace('127.0.0.1', 'localhost') + '/elsewhere');
    await page.getByRole('link', { name: 'open the task' }).click();
    await page.waitForURL(`${server.url}/tasks/${task.id}`);
    await expect.poll(() => page.locator('.title-row .badge').textContent()).toBe('cancelled');

    await page.getByRole('button', { name: 'Log out' }).click();
    await page.waitForURL(/\/login$/);
    await page.goto(server.url + '/tasks');
    await page.waitForURL(/\/login\?next=%2Ftasks$/);
    expect(problems).toEqual([]);
  });
});
