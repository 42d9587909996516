// Rough edges a newcomer hit, each spawned as a user runs it: the payload from stdin as `-`,
// a URL that is not AsyncQueue, a bad --payload without a wall of help, one exit rule for
// --wait, doctor's settings in units, and queues that a typo cannot create.
import { describe, expect, it } from 'vitest';
import { AsyncQueue, type Task } from '../../src/index.js';
import { Output } from '../../src/cli/format.js';
import { waitForTask } from '../../src/cli/wait.js';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput } from '../helpers/tasks.js';
import { runCli } from './run-cli.js';

describe('enqueue', () => {
  it('reads the payload from standard input when the URL is followed by -', async () => {
    const server = await startServer();
    const target = await startTarget();
    const r = await runCli(['enqueue', target.url, '-', '--wait', '15', '--json'], { env: { AQ_URL: server.url }, input: '{"invoice": 4712}\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'completed', payload: { invoice: 4712 } });
    expect(target.requests[0]!.json).toEqual({ invoice: 4712 });
    const other = await runCli(['enqueue', target.url, '{"a":1}'], { env: { AQ_URL: server.url } });
    expect(other.code).toBe(2);
    expect(other.stderr).toContain("for a payload on the command line use --payload '{\"a\":1}'");
  });

  it('a --payload that is not JSON is one line and a pointer to --help, not the whole help', async () => {
    const r = await runCli(['enqueue', 'http://example.com/x', '--payload', '{oops']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^error: --payload is not valid JSON: .*\n\(see `asyncqueue enqueue --help`\)\n$/);
    expect(r.stderr).not.toContain('Usage:');
  });
});

describe('--wait has one rule for enqueue and get', () => {
  it('both exit 1 while the task is still running when the wait runs out, and 0 once it completed', async () => {
    const server = await startServer();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const target = await startTarget(async () => (await gate, { status: 200, body: { ok: true } }));
    const env = { env: { AQ_URL: server.url } };
    const enq = await runCli(['enqueue', target.url, '--wait', '1'], env);
    expect(enq.code).toBe(1);
    const id = /^(tsk_\w+) is still running/.exec(enq.stdout)?.[1];
    expect(id, enq.stdout).toBeDefined();
    const get = await runCli(['get', id!, '--wait', '1'], env);
    expect(get.code).toBe(1);
    expect(get.stderr).toContain(`${id} is still running after waiting 1s`);
    release();
    expect(await runCli(['get', id!, '--wait', '15'], env)).toMatchObject({ code: 0 });
    expect(await runCli(['get', id!], env)).toMatchObject({ code: 0 });
  });
});

describe('the live line', () => {
  it('shows the attempt running as soon as it starts, not at the next poll', async () => {
    const server = await startServer();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const target = await startTarget(async () => (await gate, { status: 200 }));
    const polls: string[] = [];
    const counting: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (String(input).includes('wait=')) polls.push(String(input));
      return res;
    };
    const aq = new AsyncQueue({ url: server.url, fetch: counting });
    let frames = '';
    const stderr = Object.assign(new (await import('node:stream')).Writable({ write: (c, _e, cb) => ((frames += String(c)), cb()) }), { isTTY: true });
    const stdout = new (await import('node:stream')).PassThrough();
    const task = await aq.tasks.create(taskInput(target.url));
    const ctx = { aq, json: false, out: new Output(stdout, stderr, { NO_COLOR: '1' }), url: server.url };
    const done = waitForTask(ctx, task as Task, 30);
    await target.waitForRequests(1);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => frames.includes('running · attempt 1 of 4') && (clearInterval(check), resolve()), 20);
    });
    expect(polls).toEqual([]); // no long-poll has answered yet: the line followed the task's event
    release();
    expect((await done).status).toBe('completed');
  });
});

describe('a URL that is not AsyncQueue', () => {
  it('says so instead of failing inside', async () => {
    const other = await startTarget(() => ({ status: 200, body: { hello: 'world' } }));
    for (const args of [['list'], ['stats'], ['queues'], ['get', 'tsk_1']]) {
      const r = await runCli(args, { env: { AQ_URL: other.url } });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^error: ${other.url} does not look like AsyncQueue: .* \\(is the URL right\\?\\)\\n$`));
    }
    const html = await startTarget(() => ({ status: 200, body: '<html>hi</html>' }));
    expect((await runCli(['list'], { env: { AQ_URL: html.url } })).stderr).toContain('does not look like AsyncQueue');
  });
});

describe('doctor', () => {
  it('shows durations and sizes in units', async () => {
    const server = await startServer({ retention: '90m' });
    const r = await runCli(['doctor'], { env: { AQ_URL: server.url } });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/retention=90m /);
    expect(r.stdout).toMatch(/maxBody=1\.0 MiB /);
    expect(r.stdout).toMatch(/shutdownGrace=2s/);
    expect(r.stdout).not.toMatch(/=\d{6,}/);
  });
});

describe('queues', () => {
  it('set refuses a queue that does not exist unless --create; delete removes an idle one', async () => {
    const server = await startServer();
    const env = { env: { AQ_URL: server.url } };
    const typo = await runCli(['queues', 'set', 'nosuchqueue', '--pause'], env);
    expect(typo).toMatchObject({ code: 1, stderr: 'error: queue nosuchqueue does not exist; check the name (aq queues), or add --create to make it\n' });
    const aq = new AsyncQueue({ url: server.url });
    expect((await aq.queues.list()).map((q) => q.name)).not.toContain('nosuchqueue');
    expect(await runCli(['queues', 'set', 'imports', '--create', '--concurrency', '2'], env)).toMatchObject({ code: 0 });
    expect((await aq.queues.list()).find((q) => q.name === 'imports')).toMatchObject({ concurrency: 2 });
    await aq.tasks.create(taskInput('http://127.0.0.1:9/x', { queue: 'imports', delay: 3600 }));
    const busy = await runCli(['queues', 'delete', 'imports'], env);
    expect(busy).toMatchObject({ code: 1, stderr: expect.stringContaining('still has pending or running tasks') });
    await aq.tasks.cancelMany({ queue: 'imports' });
    expect(await runCli(['queues', 'delete', 'imports'], env)).toMatchObject({ code: 0, stdout: 'deleted queue imports\n' });
    expect((await aq.queues.list()).map((q) => q.name)).not.toContain('imports');
    expect(await runCli(['queues', 'delete', 'imports'], env)).toMatchObject({ code: 1, stderr: 'error: queue imports not found\n' });
  });
});
