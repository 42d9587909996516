// `aq secret` and `aq redeliver`, and the refusal of a bad --signing-secret, spawned as a user
// runs them (api.md §16).
import { describe, expect, it } from 'vitest';
import { AsyncQueue } from '../../src/index.js';
import { verifySignature } from '../../src/shared/signing.js';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput, waitForTask } from '../helpers/tasks.js';
import { runCli } from './run-cli.js';

describe('aq secret', () => {
  it("prints the running server's secret, which verifies what its receivers get", async () => {
    const server = await startServer({ token: 't0k' });
    const hook = await startTarget();
    const target = await startTarget();
    const r = await runCli(['secret'], { env: { AQ_URL: server.url, AQ_TOKEN: 't0k' } });
    expect(r).toMatchObject({ code: 0, stderr: '' });
    const secret = r.stdout.trim();
    expect(secret).toBe(server.signingSecret);
    await new AsyncQueue({ url: server.url, token: 't0k' }).tasks.create(taskInput(target.url, { webhookUrl: hook.url }));
    const [h] = await hook.waitForRequests(1);
    expect(verifySignature({ secret, headers: h!.headers as Record<string, string>, body: h!.body })).toBe(true);
    expect(JSON.parse((await runCli(['secret', '--json'], { env: { AQ_URL: server.url, AQ_TOKEN: 't0k' } })).stdout)).toEqual({ secret, source: 'database' });
    expect(await runCli(['secret'], { env: { AQ_URL: server.url } })).toMatchObject({ code: 1, stderr: expect.stringMatching(/refused the token/) });
  });

  it('--new prints a fresh secret that serve accepts, with no server needed', async () => {
    const a = await runCli(['secret', '--new']);
    const b = await runCli(['secret', '--new']);
    expect(a.code).toBe(0);
    expect(a.stdout).toMatch(/^whsec_[A-Za-z0-9+/=]{32}\n$/);
    expect(a.stdout).not.toBe(b.stdout);
    const server = await startServer({ signingSecret: a.stdout.trim() });
    expect((await server.api('/v1/signing-secret')).body).toEqual({ secret: a.stdout.trim(), source: 'config' });
  });

  it('serve refuses a secret that is not whsec_<base64> and says how to make one', async () => {
    const r = await runCli(['serve', '--port', '0', '--db', ':memory:', '--signing-secret', 'hunter2']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--signing-secret must be whsec_ followed by base64');
    expect(r.stderr).toContain('asyncqueue secret --new');
  });
});

describe('aq redeliver', () => {
  it('re-sends one outcome by id, every failed webhook by filter, and refuses ids with filters or neither', async () => {
    const server = await startServer();
    const target = await startTarget();
    let up = false;
    const hook = await startTarget(() => ({ status: up ? 200 : 503 }));
    const aq = new AsyncQueue({ url: server.url });
    const env = { env: { AQ_URL: server.url } };
    const tasks = [];
    for (let i = 0; i < 2; i++) tasks.push(await aq.tasks.create(taskInput(target.url, { webhookUrl: hook.url, webhookRetries: 0, queue: 'reports' })));
    for (const t of tasks) await waitForTask(server, t.id, (x) => x.webhook?.status === 'failed');
    up = true;
    const one = await runCli(['redeliver', tasks[0]!.id], env);
    expect(one).toMatchObject({ code: 0, stdout: `re-delivering the completed outcome of ${tasks[0]!.id} to ${hook.url}\n` });
    await waitForTask(server, tasks[0]!.id, (x) => x.webhook?.status === 'delivered');
    expect(await runCli(['redeliver', '--webhook-status', 'failed', '--queue', 'reports'], env)).toMatchObject({ code: 0, stdout: 're-delivering 1 outcome\n' });
    await waitForTask(server, tasks[1]!.id, (x) => x.webhook?.status === 'delivered');
    expect(JSON.parse((await runCli(['redeliver', '--webhook-status', 'failed', '--json'], env)).stdout)).toEqual({ count: 0 });
    expect(await runCli(['redeliver', 'tsk_nope'], env)).toMatchObject({ code: 1, stderr: 'error: task tsk_nope not found\n' });
    expect(await runCli(['redeliver'], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('give a task id, or at least one filter') });
    expect(await runCli(['redeliver', tasks[0]!.id, '-w', 'failed'], env)).toMatchObject({ code: 2 });
    expect(await runCli(['redeliver', '--webhook-status', 'lost'], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('pending, delivered, failed') });
  });
});
