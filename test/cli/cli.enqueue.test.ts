// `aq enqueue` as a user runs it: the real binary against a real server and target. Output,
// --json shapes and exit codes, including `--wait` on a task that fails.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Task } from '../../src/shared/types.js';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { tempDir } from '../helpers/temp.js';
import { runCli } from './run-cli.js';

async function setup() {
  const server = await startServer();
  const target = await startTarget((req) =>
    req.path === '/fail' ? { status: 500, headers: { 'AQ-No-Retry': 'true' }, body: { reason: 'bad payload' } } : { status: 200, body: { echo: req.json ?? null } },
  );
  const cli = (args: string[], input?: string) => runCli(args, { env: { AQ_URL: server.url }, input });
  return { server, target, cli };
}

describe('aq enqueue', () => {
  it('creates a task from flags and prints it as the API object with --json', async () => {
    const { target, cli } = await setup();
    const r = await cli(['enqueue', `${target.url}/work`, '--payload', '{"to":"ada"}', '--queue', 'emails', '--retries', '5', '--timeout', '2m',
      '--priority', '-3', '--label', 'a', '--label', 'b', '--header', 'X-Tenant: acme', '--idempotency-key', 'k-1', '--key', 'tenant-acme', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const task = JSON.parse(r.stdout) as Task;
    expect(task).toMatchObject({ targetUrl: `${target.url}/work`, payload: { to: 'ada' }, queue: 'emails', retries: 5, timeout: 120, priority: -3,
      labels: ['a', 'b'], headers: { 'X-Tenant': 'acme' }, idempotencyKey: 'k-1', concurrencyKey: 'tenant-acme' });
    expect(task.id).toMatch(/^tsk_/);
    const [req] = await target.waitForRequests(1);
    expect(req!.json).toEqual({ to: 'ada' });
    expect(req!.headers['x-tenant']).toBe('acme');
  });

  it('prints one human line without --json', async () => {
    const { target, cli } = await setup();
    const r = await cli(['enqueue', target.url, '--delay', '1h']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tsk_\S+ pending on queue default\n$/);
  });

  it('reads the payload from standard input and from a file', async () => {
    const { target, cli } = await setup();
    const fromStdin = JSON.parse((await cli(['enqueue', target.url, '--payload', '-', '--json', '--delay', '1h'], '{"from":"stdin"}')).stdout) as Task;
    expect(fromStdin.payload).toEqual({ from: 'stdin' });
    const file = path.join(tempDir(), 'payload.json');
    writeFileSync(file, '[1, 2, 3]');
    const fromFile = JSON.parse((await cli(['enqueue', target.url, '--payload-file', file, '--json', '--delay', '1h'])).stdout) as Task;
    expect(fromFile.payload).toEqual([1, 2, 3]);
  });

  it('with --wait exits 0 and shows the result when the task completes', async () => {
    const { target, cli } = await setup();
    const r = await cli(['enqueue', `${target.url}/ok`, '--payload', '{"n":7}', '--wait', '30']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tsk_\S+ completed after 1 attempt \(.+\)\nresult: \{"echo":\{"n":7\}\}\n$/);
  });

  it('with --wait exits 1 when the target answers 500 with AQ-No-Retry: true', async () => {
    const { target, cli } = await setup();
    const r = await cli(['enqueue', `${target.url}/fail`, '--wait']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^tsk_\S+ failed after 1 attempt/);
    expect(r.stdout).toContain('error: http 500');
    expect(target.requests).toHaveLength(1);
  });

  it('with --wait --json prints the final task and still exits 1 for failed', async () => {
    const { target, cli } = await setup();
    const r = await cli(['enqueue', `${target.url}/fail`, '--wait', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'failed', attempts: 1, error: { type: 'http', status: 500 } });
  });

  it('with --wait N exits 1 and says so when the task is not done in time', async () => {
    const { target, cli } = await setup();
    const r = await cli(['enqueue', target.url, '--delay', '1h', '--wait', '1']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^tsk_\S+ is still pending after/);
  });

  it('reports a request the server refuses as one sentence, exit 1', async () => {
    const { target, cli } = await setup();
    const r = await cli(['enqueue', target.url, '--queue', 'bad queue name!']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: .*queue.*\n$/);
  });
});
