// Browser helpers for the dashboard tests: Debian's chromium driven by playwright-core (one
// browser per test file), pages that record console errors, screenshots under $TMPDIR/asyncqueue-test-output (or AQ_TEST_SHOTS).
import { existsSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { onTestFinished } from 'vitest';

/** The chromium binary (AQ_CHROMIUM overrides /usr/bin/chromium). */
export const CHROMIUM = process.env.AQ_CHROMIUM ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM) {
  console.warn(`SKIPPING dashboard browser tests: no chromium at ${CHROMIUM} (apt-get install -y chromium, or set AQ_CHROMIUM)`);
}

/** Screenshots go outside the working copy (tests write only into temp dirs); AQ_TEST_SHOTS overrides. */
export const SHOTS = process.env.AQ_TEST_SHOTS ?? path.join(os.tmpdir(), 'asyncqueue-test-output');

/** How long one launch may take, and how many launches are tried: a first start on a loaded CI
 * machine (font cache, profile) has been seen to take longer than a hook's 30 s. Playwright kills
 * a browser whose launch timed out, so a retry leaves nothing behind. */
const LAUNCH_TIMEOUT_MS = 60_000;
const LAUNCH_TRIES = 3;
/** The hook timeout for a `beforeAll` that calls `launch()`: every try, with room to spare. */
export const LAUNCH_HOOK_TIMEOUT_MS = LAUNCH_TIMEOUT_MS * LAUNCH_TRIES + 10_000;

export async function launch(): Promise<Browser> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await chromium.launch({
        executablePath: CHROMIUM,
        timeout: LAUNCH_TIMEOUT_MS,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      });
    } catch (err) {
      if (attempt >= LAUNCH_TRIES) throw err;
      console.warn(`chromium launch ${attempt} of ${LAUNCH_TRIES} failed, trying again: ${(err as Error).message.split('\n')[0]}`);
    }
  }
}

export interface TestPage {
  page: Page;
  /** Console errors, page errors and failed requests seen so far. */
  problems: string[];
  screenshot(name: string): Promise<string>;
}

/** A fresh context and page at `width`×800 (default 1280), closed when the test finishes. */
export async function openPage(browser: Browser, width = 1280): Promise<TestPage> {
  const context = await browser.newContext({ viewport: { width, height: 800 }, colorScheme: 'light' });
  onTestFinished(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('requestfailed', (r) => {
    // A request cut short by navigating away (an event stream, an icon) is not a problem.
    if (!r.url().includes('/v1/events') && r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`response: ${r.status()} ${r.request().method()} ${r.url()}`);
  });
  return {
    page,
    problems,
    async screenshot(name) {
      mkdirSync(SHOTS, { recursive: true });
      const file = path.join(SHOTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
  };
}
