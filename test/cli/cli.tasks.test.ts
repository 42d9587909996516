// The read and act commands against a real server: get, attempts, list, cancel, retry,
// delete, stats, queues — human tables, --json shapes, 404s and auth failures.
import { describe, expect, it } from 'vitest';
import { AsyncQueue, type Task } from '../../src/index.js';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput } from '../helpers/tasks.js';
import { runCli } from './run-cli.js';

async function setup(opts: { token?: string } = {}) {
  const server = await startServer(opts);
  const target = await startTarget((req) => (req.path === '/fail' ? { status: 500, headers: { 'AQ-No-Retry': 'true' }, body: 'nope' } : { status: 200, body: { ok: true } }));
  const aq = new AsyncQueue({ url: server.url, token: opts.token });
  const cli = (args: string[]) => runCli(args, { env: { AQ_URL: server.url, AQ_TOKEN: opts.token } });
  return { server, target, aq, cli };
}

describe('aq get and attempts', () => {
  it('shows a failed task and its attempts, as text and as the API objects', async () => {
    const { target, aq, cli } = await setup();
    const task = await aq.tasks.create(taskInput(`${target.url}/fail`, { labels: ['l1'] }), { wait: 15 });
    const text = await cli(['get', task.id]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^id +${task.id}\\nstatus +failed\\nqueue +default\\ntarget +POST ${target.url}/fail\\nattempts +1 of 4\\n`));
    expect(text.stdout).toMatch(/created +(just now|\d+s ago) \(/);
    expect(text.stdout).toMatch(/labels +l1\n/);
    expect(text.stdout).toMatch(/error +http 500: /);
    expect(JSON.parse((await cli(['get', task.id, '--json'])).stdout)).toEqual(await aq.tasks.get(task.id));

    const attempts = await cli(['attempts', task.id]);
    expect(attempts.stdout.split('\n')[0]).toMatch(/^# +STARTED +DURATION +STATUS +OUTCOME$/);
    expect(attempts.stdout.split('\n')[1]).toMatch(/^1 +(just now|\d+s ago) +\d+ms +500 +http 500: /);
    expect(JSON.parse((await cli(['attempts', task.id, '--json'])).stdout)).toEqual({ attempts: await aq.tasks.attempts(task.id) });
  });

  it('get --wait waits for the outcome', async () => {
    const { target, aq, cli } = await setup();
    const task = await aq.tasks.create(taskInput(target.url));
    const r = await cli(['get', task.id, '--wait', '15', '--json']);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: task.id, status: 'completed', result: { ok: true } });
  });

  it('exits 1 with one sentence for an unknown id', async () => {
    const { cli } = await setup();
    for (const cmd of ['get', 'attempts', 'cancel', 'retry', 'delete']) {
      const r = await cli([cmd, 'tsk_doesnotexist']);
      expect(r.code, cmd).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe('error: task tsk_doesnotexist not found\n');
    }
  });
});

describe('aq list', () => {
  it('prints an aligned table filtered by status and queue, and the API page with --json', async () => {
    const { target, aq, cli } = await setup();
    await aq.queues.pause('held');
    const held = await aq.tasks.createMany([1, 2, 3].map(() => taskInput(target.url, { queue: 'held' })));
    await aq.tasks.create(taskInput(target.url));
    const r = await cli(['list', '--queue', 'held', '--status', 'pending', '--limit', '2']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID +STATUS +QUEUE +ATTEMPTS +CREATED +TARGET$/);
    expect(lines[1]).toMatch(new RegExp(`^${held[2]!.id} +pending +held +0/4 +(just now|\\d+s ago) +POST ${target.url}$`));
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^more: aq list --status pending --queue held --limit 2 --cursor \S+$/);
    const page = JSON.parse((await cli(['list', '--queue', 'held', '--json'])).stdout) as { tasks: Task[]; nextCursor: string | null };
    expect(page.tasks.map((t) => t.id)).toEqual(held.map((t) => t.id).reverse());
    expect(page.nextCursor).toBeNull();
  });

  it('says so when nothing matches', async () => {
    const { cli } = await setup();
    expect((await cli(['list', '--status', 'failed'])).stdout).toBe('no tasks\n');
  });
});

describe('aq cancel, retry and delete', () => {
  it('acts on one task, then on every task matching filters', async () => {
    const { target, aq, cli } = await setup();
    await aq.queues.pause('held');
    const [a] = await aq.tasks.createMany([1, 2, 3].map(() => taskInput(target.url, { queue: 'held' })));
    expect((await cli(['cancel', a!.id])).stdout).toBe(`cancelled ${a!.id} (now cancelled)\n`);
    const again = await cli(['cancel', a!.id]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: .*terminal.*\n$/);
    expect(JSON.parse((await cli(['retry', a!.id, '--json'])).stdout)).toMatchObject({ id: a!.id, status: 'pending' });
    expect((await cli(['cancel', '--queue', 'held'])).stdout).toBe('cancelled 3 tasks\n');
    expect(JSON.parse((await cli(['retry', '--queue', 'held', '--status', 'cancelled', '--json'])).stdout)).toEqual({ count: 3 });
    expect(JSON.parse((await cli(['delete', a!.id, '--json'])).stdout)).toEqual({ id: a!.id, deleted: true });
    expect((await cli(['get', a!.id])).code).toBe(1);
  });
});

describe('aq stats and queues', () => {
  it('shows counts by state and queue', async () => {
    const { target, aq, cli } = await setup();
    await aq.tasks.create(taskInput(target.url, { queue: 'emails' }), { wait: 15 });
    const text = await cli(['stats']);
    expect(text.stdout).toMatch(/^pending 0 +running 0 +completed 1 +failed 0 +cancelled 0\n/);
    expect(text.stdout).toMatch(/\nemails +0 +0 +1 +0 +0\n/);
    const json = JSON.parse((await cli(['stats', '--json'])).stdout);
    expect(json).toMatchObject({ counts: { completed: 1 }, queues: { emails: { completed: 1 } }, inFlight: 0 });
  });

  it('lists queues and changes their limits with queues set', async () => {
    const { target, aq, cli } = await setup();
    await aq.tasks.create(taskInput(target.url, { queue: 'emails' }), { wait: 15 });
    const set = await cli(['queues', 'set', 'emails', '--concurrency', '3', '--rate', '10', '--key-concurrency', '2', '--pause', '--json']);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toMatchObject({ name: 'emails', concurrency: 3, ratePerSecond: 10, keyConcurrency: 2, paused: true });
    const list = await cli(['queues']);
    expect(list.stdout).toMatch(/^QUEUE +STATE +CONCURRENCY +RATE\/S +PER KEY +PENDING +RUNNING +COMPLETED +FAILED +CANCELLED\n/);
    expect(list.stdout).toMatch(/\nemails +paused +3 +10 +2 +0 +0 +1 +0 +0\n/);
    expect((await cli(['queues', 'set', 'emails', '--key-concurrency', '0'])).code).toBe(2);
    await cli(['queues', 'set', 'emails', '--concurrency', 'none', '--key-concurrency', 'none', '--resume']);
    const json = JSON.parse((await cli(['queues', '--json'])).stdout) as { queues: { name: string; concurrency: number | null; paused: boolean }[] };
    expect(json.queues.find((q) => q.name === 'emails')).toMatchObject({ concurrency: null, paused: false });
  });
});

describe('auth', () => {
  it('uses AQ_TOKEN, and without a valid token exits 1 saying how to give one', async () => {
    const { cli, server } = await setup({ token: 'tok-1' });
    expect((await cli(['stats'])).code).toBe(0);
    const r = await runCli(['stats', '--token', 'wrong'], { env: { AQ_URL: server.url } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: AsyncQueue at .* refused the token .*; set --token or AQ_TOKEN\n$/);
  });
});
