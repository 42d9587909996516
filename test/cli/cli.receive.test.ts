// `aq secret` and `aq redeliver` (of a task's outcome or a batch's batch.done) with `aq batch
// --deliveries`, and the refusal of a bad --signing-secret, spawned as a user runs them (api.md §13, §16).
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

  it('a batch id re-sends its batch.done, and aq batch --deliveries lists every attempt with its webhook-id', async () => {
    const server = await startServer();
    const target = await startTarget();
    // The first batch.done meets a 503 asking for an hour's pause, so only the re-delivery comes next.
    const hook = await startTarget((_r, i) => (i === 0 ? { status: 503, headers: { 'Retry-After': '3600' } } : { status: 200 }));
    const aq = new AsyncQueue({ url: server.url });
    const env = { env: { AQ_URL: server.url } };
    expect((await server.api('/v1/queues/held', { method: 'PUT', body: { paused: true } })).status).toBe(200);
    const created = await server.api('/v1/tasks/batch', { body: { tasks: [taskInput(target.url, { queue: 'held' })], batch: { webhookUrl: hook.url } } });
    const id = created.body.batchId as string;
    // Not done yet: nothing to deliver.
    expect(await runCli(['batch', id, '--deliveries'], env)).toMatchObject({ code: 0, stdout: `batch ${id} has no webhook deliveries yet\n` });
    const refused = await runCli(['redeliver', id], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`batch ${id} has no batch.done to deliver`);
    // Cancelled, the batch is done; its batch.done meets the 503, then the re-delivery a 200.
    expect((await server.api('/v1/tasks/cancel', { body: { batch: id } })).body).toEqual({ count: 1 });
    await hook.waitForRequests(1);
    while ((await aq.batches.deliveries(id))[0]?.durationMs == null);
    const one = await runCli(['redeliver', id], env);
    expect(one).toMatchObject({ code: 0, stdout: `re-delivering the batch.done of ${id} to ${hook.url}\n`, stderr: '' });
    const [, again] = await hook.waitForRequests(2);
    expect(again!.headers['webhook-id']).toBe(`${id}.1`);
    while ((await aq.batches.deliveries(id)).some((d) => d.durationMs === null));
    const listed = JSON.parse((await runCli(['batch', id, '--deliveries', '--json'], env)).stdout) as { deliveries: { attempt: number; status?: number }[] };
    expect(listed.deliveries.map((d) => [d.attempt, d.status])).toEqual([[1, 503], [2, 200]]);
    const table = await runCli(['batch', id, '--deliveries'], env);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^WEBHOOK-ID\s+ATTEMPT\s+STARTED\s+DURATION\s+STATUS\s+OUTCOME$/);
    expect(lines.slice(1).map((l) => l.split(/\s{2,}/)[0])).toEqual([`${id}.1`, `${id}.1`]);
    expect(lines[1]).toContain('503');
    expect(lines[2]).toMatch(/200\s+ok$/);
    expect(JSON.parse((await runCli(['redeliver', id, '--json'], env)).stdout)).toMatchObject({ id, done: true, webhook: { status: 'pending' } });
    expect(await runCli(['redeliver', 'bat_nope'], env)).toMatchObject({ code: 1, stderr: 'error: batch bat_nope not found\n' });
    expect(await runCli(['batch', 'bat_nope', '--deliveries'], env)).toMatchObject({ code: 1, stderr: 'error: batch bat_nope not found\n' });
    expect(await runCli(['batch', id, '--deliveries', '--wait'], env)).toMatchObject({ code: 2, stderr: expect.stringContaining('does not wait') });
  });
});
