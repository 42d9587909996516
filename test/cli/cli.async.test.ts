// `aq complete`, `aq fail`, `aq heartbeat` and `aq why` against a real server (api.md §10–§11).
import { describe, expect, it } from 'vitest';
import { AsyncQueue, type Task } from '../../src/index.js';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput, waitForTask } from '../helpers/tasks.js';
import { runCli } from './run-cli.js';

describe('aq complete, fail and heartbeat', () => {
  it('completes with the completion token from AQ_COMPLETION_TOKEN, and a repeat is refused by another way of ending', async () => {
    const server = await startServer({ token: 'cli-api-token' });
    const target = await startTarget(() => ({ status: 202 }));
    const aq = new AsyncQueue({ url: server.url, token: 'cli-api-token' });
    const a = await aq.tasks.create(taskInput(target.url, { async: { heartbeat: 60 }, retries: 0 }));
    const b = await aq.tasks.create(taskInput(target.url, { async: {}, retries: 2 }));
    await target.waitForRequests(2);
    for (const t of [a, b]) await waitForTask(server, t.id, (x) => x.awaiting !== null);
    const tokenOf = (id: string) => String(target.requests.find((r) => r.headers['aq-task-id'] === id)!.headers['aq-completion-token']);
    const env = { AQ_URL: server.url, AQ_COMPLETION_TOKEN: tokenOf(a.id) };

    const beat = await runCli(['heartbeat', a.id], { env });
    expect(beat.stdout).toMatch(new RegExp(`^deadline of ${a.id} is now \\d{4}-`));
    const done = await runCli(['complete', a.id, '--result', '{"approved":true}', '--json'], { env });
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout)).toMatchObject({ status: 'completed', result: { approved: true } });
    const refused = await runCli(['fail', a.id, '--message', 'too late'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/cannot fail: attempt 1 of task .* was completed/);

    // Without a completion token the API token acts on the latest attempt.
    const failed = await runCli(['fail', b.id, '--message', 'rejected by reviewer', '--no-retry'], { env: { AQ_URL: server.url, AQ_TOKEN: 'cli-api-token' } });
    expect(failed.code).toBe(0);
    expect(failed.stdout).toMatch(/now failed/);
    const usage = await runCli(['complete', b.id, '--result', '{oops'], { env });
    expect(usage.code).toBe(2);
  });
});

describe('aq why', () => {
  it('says why a task waits in backoff and prints the plan', async () => {
    const server = await startServer();
    const target = await startTarget(() => ({ status: 503 }));
    const aq = new AsyncQueue({ url: server.url });
    const t = await aq.tasks.create(taskInput(target.url, { retries: 2, backoff: { initial: 600, factor: 2, max: 3600 } }));
    await waitForTask(server, t.id, (x: Task) => x.status === 'pending' && x.attempts === 1);
    const r = await runCli(['why', t.id], { env: { AQ_URL: server.url } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^${t.id} is pending, attempt 1 of 3\\nwaiting: backoff: retry 1 of 2 after HTTP 503; not before .*\\nuntil: +\\d{4}-`));
    expect(r.stdout).toMatch(/ATTEMPT +EARLIEST START +LATEST START\n +2 +\S+ +\S+\n +3 +\S+ +\S+\n/);
    expect(r.stdout).toMatch(/gives up by \d{4}-/);
    const json = JSON.parse((await runCli(['why', t.id, '--json'], { env: { AQ_URL: server.url } })).stdout);
    expect(json.plan).toEqual(await aq.tasks.plan(t.id));
    expect(json.plan.attempts.map((a: { n: number }) => a.n)).toEqual([2, 3]);
    const missing = await runCli(['why', 'tsk_nope'], { env: { AQ_URL: server.url } });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/task tsk_nope not found/);
  });
});
