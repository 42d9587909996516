// `aq enqueue --file tasks.ndjson`: batches of up to 1000 through the batch API, a summary,
// and on a bad line its line number, with exactly the earlier batches created.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AsyncQueue } from '../../src/index.js';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';
import { runCli } from './run-cli.js';

/** A server whose `imports` queue is paused, so imported tasks stay pending and countable. */
async function setup() {
  const server = await startServer();
  const aq = new AsyncQueue({ url: server.url });
  await aq.queues.pause('imports');
  const cli = (args: string[], input?: string) => runCli(args, { env: { AQ_URL: server.url }, input });
  const count = async () => (await aq.stats()).queues.imports?.pending ?? 0;
  return { server, aq, cli, count };
}

function ndjson(lines: string[]): string {
  const file = path.join(tempDir(), 'tasks.ndjson');
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

const line = (i: number) => JSON.stringify({ targetUrl: `http://127.0.0.1:9/${i}`, payload: { i } });

describe('aq enqueue --file', () => {
  it('imports 2500 tasks in batches, applying the flags as defaults, and prints a summary', async () => {
    const { cli, aq, count } = await setup();
    const file = ndjson([...Array.from({ length: 2500 }, (_, i) => line(i)), '', '']);
    const r = await cli(['enqueue', '--file', file, '--queue', 'imports', '--label', 'bulk']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^created 2,500 tasks in \S+ \(\S+\/s\)\n$/);
    expect(await count()).toBe(2500);
    const page = await aq.tasks.list({ queue: 'imports', limit: 1 });
    expect(page.tasks[0]).toMatchObject({ labels: ['bulk'], payload: { i: 2499 } });
  });

  it('prints the created ids with --json, and reads standard input with -', async () => {
    const { cli, count } = await setup();
    const r = await cli(['enqueue', '--file', '-', '--queue', 'imports', '--json'], [line(1), line(2), line(3)].join('\n'));
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { created: number; ids: string[] };
    expect(out.created).toBe(3);
    expect(out.ids).toHaveLength(3);
    expect(await count()).toBe(3);
  });

  it('stops at a bad line, naming it, with only the whole batches before it created', async () => {
    const { cli, count } = await setup();
    const lines = Array.from({ length: 1500 }, (_, i) => line(i));
    lines[1202] = '{"payload": 1}';
    const r = await cli(['enqueue', '--file', ndjson(lines), '--queue', 'imports']);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('error: line 1203: missing "targetUrl" — 1,000 tasks before line 1001 were created; nothing from that line on was sent\n');
    expect(await count()).toBe(1000);
  });

  it('names a line that is not JSON at all, and creates nothing when it is in the first batch', async () => {
    const { cli, count } = await setup();
    const r = await cli(['enqueue', '--file', ndjson([line(1), 'not json', line(3)]), '--queue', 'imports']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: line 2: not valid JSON \(.+\) — no task was created\n$/);
    expect(await count()).toBe(0);
  });

  it('maps a task the server refuses back to its line, with --json giving the same facts', async () => {
    const { cli, count } = await setup();
    const lines = [line(1), line(2), JSON.stringify({ targetUrl: 'ftp://example.com/x' })];
    const r = await cli(['enqueue', '--file', ndjson(lines), '--queue', 'imports', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: line 3: .*targetUrl.* — no task was created\n$/);
    expect(JSON.parse(r.stdout)).toEqual({ created: 0, ids: [], error: { line: 3, message: expect.stringContaining('targetUrl') } });
    expect(await count()).toBe(0);
  });

  it('says which file it cannot read', async () => {
    const { cli } = await setup();
    const r = await cli(['enqueue', '--file', path.join(tempDir(), 'missing.ndjson')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: cannot read .*missing\.ndjson: ENOENT\n$/);
  });
});
