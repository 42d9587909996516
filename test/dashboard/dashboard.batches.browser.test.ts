// The batch page (api.md §13) in a real browser: its progress and counts follow the members
// live, without a reload, "Retry failed tasks" retries the failed members of the batch, and
// "Re-deliver" sends its batch.done again, the new attempt showing in the deliveries (§16).
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Task } from '../../src/shared/types.js';
import { startServer } from '../helpers/server.js';
import { startTarget, type Reply } from '../helpers/target.js';
import { taskInput, waitForTerminal } from '../helpers/tasks.js';
import { HAVE_CHROMIUM, LAUNCH_HOOK_TIMEOUT_MS, launch, openPage } from './browser.js';

describe.skipIf(!HAVE_CHROMIUM)('the batch page in chromium', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launch();
  }, LAUNCH_HOOK_TIMEOUT_MS);
  afterAll(() => browser?.close());

  test('follows its members live and retries the failed ones', async () => {
    const server = await startServer();
    let failing = true;
    const held: (() => void)[] = [];
    // Payload 0 fails at once (no retry) until `failing` is cleared; the others wait for release.
    const target = await startTarget((req) => {
      if (req.json === 0) return failing ? { status: 400, headers: { 'AQ-No-Retry': 'true' } } : { status: 200 };
      return new Promise<Reply>((resolve) => held.push(() => resolve({ status: 200 })));
    });
    const r = await server.api('/v1/tasks/batch', { body: { tasks: [0, 1, 2].map((i) => taskInput(target.url, { payload: i })) } });
    expect(r.status).toBe(201);
    const id = r.body.batchId as string;
    const [bad] = r.body.tasks as Task[];
    expect((await waitForTerminal(server, bad!.id)).status).toBe('failed');
    await expect.poll(() => held.length).toBe(2);

    const { page, problems, screenshot } = await openPage(browser);
    await page.goto(`${server.url}/batches/${id}`);
    expect(await page.locator('#batch-ended').textContent()).toBe('1 of 3 ended (33%)');
    expect(await page.locator('[data-count="running"]').textContent()).toBe('2');
    expect(await page.locator('tr[data-id]').count()).toBe(3);
    await expect.poll(() => page.locator('#live').textContent()).toBe('live');
    await page.evaluate(() => ((window as any).notReloaded = true));
    expect(await page.locator('h1 .badge').textContent()).toBe('running');

    for (const release of held.splice(0)) release();
    await expect.poll(() => page.locator('#batch-ended').textContent()).toBe('3 of 3 ended (100%)');
    expect(await page.locator('h1 .badge').textContent()).toBe('completed');
    expect(await page.locator('[data-count="completed"]').textContent()).toBe('2');
    expect(await page.locator('#batch-progress').getAttribute('value')).toBe('3');
    await screenshot('batch-1280');

    failing = false;
    await page.getByRole('button', { name: 'Retry failed tasks' }).click();
    await expect.poll(() => page.locator('[data-count="completed"]').textContent()).toBe('3');
    expect(await page.locator('[data-count="failed"]').textContent()).toBe('0');
    expect(await page.evaluate(() => (window as any).notReloaded)).toBe(true);
    const batch = (await server.api(`/v1/batches/${id}`)).body;
    expect(batch).toMatchObject({ total: 3, done: true, counts: { completed: 3, failed: 0 } });
    expect((await server.api(`/v1/tasks/${bad!.id}`)).body).toMatchObject({ status: 'completed', attempts: 2 });
    expect(problems).toEqual([]);
  });

  test('Re-deliver sends the batch.done again, and the new attempt shows in its deliveries without a reload', async () => {
    const server = await startServer();
    const target = await startTarget();
    // The first batch.done meets a 503 asking for an hour's pause; the re-delivery gets a 200.
    const hook = await startTarget((_r, i) => (i === 0 ? { status: 503, headers: { 'Retry-After': '3600' } } : { status: 200 }));
    const r = await server.api('/v1/tasks/batch', { body: { tasks: [taskInput(target.url)], batch: { webhookUrl: hook.url } } });
    const id = r.body.batchId as string;
    await hook.waitForRequests(1);
    await expect.poll(async () => (await server.api(`/v1/batches/${id}/deliveries`)).body.deliveries[0]?.durationMs ?? null).not.toBeNull();

    const { page, problems, screenshot } = await openPage(browser);
    await page.goto(`${server.url}/batches/${id}`);
    const rows = page.locator('#r-deliveries table.deliveries tbody tr');
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain(`${id}.1`);
    await page.evaluate(() => ((window as any).notReloaded = true));
    await page.getByRole('button', { name: 'Re-deliver' }).click();
    await expect.poll(() => page.locator('#r-deliveries table.deliveries tbody tr').count()).toBe(2);
    await expect.poll(() => rows.nth(1).textContent()).toContain('HTTP 200');
    await expect.poll(() => page.locator('#r-batch').textContent()).toContain('(delivered, 2 attempts)');
    expect(await page.evaluate(() => (window as any).notReloaded)).toBe(true);
    await screenshot('batch-deliveries-1280');
    expect(hook.requests.map((h) => h.headers['webhook-id'])).toEqual([`${id}.1`, `${id}.1`]);
    expect(problems).toEqual([]);
  });
});
