// examples/report-app, run as a user runs it: a spawned AsyncQueue, the app spawned with
// `node examples/report-app/app.mjs`, and the browser's generate-and-poll loop (poll.mjs).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { spawnServer } from '../helpers/server.js';

const EXAMPLE = path.resolve(import.meta.dirname, '../../examples/report-app');

/** Runs `node <file> …args` with `env`; resolves with the URL it prints, or its whole output at exit. */
function runExample(file: string, args: string[], env: Record<string, string>, until?: RegExp) {
  const proc = spawn(process.execPath, [path.join(EXAMPLE, file), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => void (proc.exitCode === null && proc.kill('SIGKILL')));
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  return new Promise<{ out: string; code: number | null; match?: RegExpExecArray }>((resolve) => {
    if (until) proc.stdout.on('data', () => {
      const m = until.exec(out);
      if (m) resolve({ out, code: null, match: m });
    });
    proc.on('exit', (code) => resolve({ out, code }));
  });
}

describe('examples/report-app', () => {
  it('generates reports, works them (retrying a flaky render), receives each outcome and polls to the end', async () => {
    const aq = await spawnServer([]);
    const app = await runExample('app.mjs', [], { AQ_URL: aq.url, PORT: '0' }, /report app listening on (http:\/\/\S+)/);
    expect(app.match, app.out).toBeDefined();
    const appUrl = app.match![1]!;
    const { generate, poll } = (await import(path.join(EXAMPLE, 'poll.mjs'))) as {
      generate: (url: string, p: object) => Promise<string>;
      poll: (url: string, id: string, every: number) => Promise<Record<string, unknown>>;
    };
    const fast = { initial: 0.01, factor: 2, max: 0.05 };
    const ids = await Promise.all([
      generate(appUrl, { dateRange: '2026-01', backoff: fast }),
      generate(appUrl, { dateRange: '2026-02', failFirst: 2, backoff: fast }),
      generate(appUrl, { dateRange: 'nonsense', invalid: true, backoff: fast }),
    ]);
    const [plain, flaky, invalid] = await Promise.all(ids.map((id) => poll(appUrl, id, 50)));
    expect(plain).toMatchObject({ id: ids[0], status: 'completed', reportUrl: `https://reports.example.com/${ids[0]}.pdf`, pageCount: 8, attempts: 1 });
    expect(flaky).toMatchObject({ id: ids[1], status: 'completed', attempts: 3 });
    expect(invalid).toMatchObject({ id: ids[2], status: 'failed', error: expect.stringContaining('HTTP 422'), attempts: 1 });

    // The CLI of the example: generate and poll three more, printing one line per job.
    const cli = await runExample('poll.mjs', ['3'], { APP_URL: appUrl });
    expect(cli.code, cli.out).toBe(0);
    const lines = cli.out.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(/^[\w-]+ completed https:\/\/reports\.example\.com\/[\w-]+\.pdf \(\d attempts?\)$/);
  });
});
