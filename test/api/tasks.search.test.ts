// GET /v1/tasks by schedule and by a payload field; the SDK and the CLI pass them through.
import { describe, expect, it } from 'vitest';
import { AsyncQueue } from '../../src/index.js';
import { runCli } from '../cli/run-cli.js';
import { startServer } from '../helpers/server.js';
import { createTask, taskInput } from '../helpers/tasks.js';

describe('searching tasks', () => {
  it('by payload field through the API, the SDK and aq list --where; both halves or a 400', async () => {
    const server = await startServer();
    const a = await createTask(server, taskInput('http://127.0.0.1:9/x', { payload: { jobId: 'j-1', n: 42 }, delay: 3600 }));
    await createTask(server, taskInput('http://127.0.0.1:9/x', { payload: { jobId: 'j-2' }, delay: 3600 }));
    expect((await server.api('/v1/tasks?payloadField=jobId&payloadValue=j-1')).body.tasks.map((t: { id: string }) => t.id)).toEqual([a.id]);
    expect((await new AsyncQueue({ url: server.url }).tasks.list({ payloadField: 'n', payloadValue: '42' })).tasks.map((t) => t.id)).toEqual([a.id]);
    expect(await server.api('/v1/tasks?payloadField=jobId')).toMatchObject({ status: 400, body: { error: { message: expect.stringContaining('payloadField and payloadValue together') } } });
    expect(await server.api('/v1/tasks?payloadField=a[0]&payloadValue=x')).toMatchObject({ status: 400 });
    const cli = await runCli(['list', '--where', 'jobId=j-1', '--json'], { env: { AQ_URL: server.url } });
    expect(JSON.parse(cli.stdout).tasks.map((t: { id: string }) => t.id)).toEqual([a.id]);
    expect(await runCli(['list', '--where', 'jobId'], { env: { AQ_URL: server.url } })).toMatchObject({ code: 2, stderr: expect.stringContaining('give field=value') });
  });

  it('by schedule', async () => {
    const server = await startServer();
    await server.api('/v1/schedules', { body: { id: 'nightly', cron: '0 3 * * *', task: taskInput('http://127.0.0.1:9/x', { delay: 3600 }) } });
    const fired = await server.api('/v1/schedules/nightly/trigger', { method: 'POST' });
    await createTask(server, taskInput('http://127.0.0.1:9/x', { delay: 3600 }));
    expect((await server.api('/v1/tasks?schedule=nightly')).body.tasks.map((t: { id: string }) => t.id)).toEqual([fired.body.id]);
  });
});
