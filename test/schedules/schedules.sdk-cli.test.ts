// `aq.schedules.*` and `aq schedules …` against a real server: every SDK method, and the CLI's
// list, get, create (upsert by --id, --file), pause, resume, trigger and delete with exit codes.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AsyncQueue } from '../../src/sdk/client.js';
import { AsyncQueueError } from '../../src/sdk/errors.js';
import { runCli } from '../cli/run-cli.js';
import { startServer } from '../helpers/server.js';
import { tempDir } from '../helpers/temp.js';

const task = { targetUrl: 'http://127.0.0.1:9/report', queue: 'hold' };
async function setup() {
  const server = await startServer();
  await server.api('/v1/queues/hold', { method: 'PUT', body: { paused: true } });
  const aq = new AsyncQueue({ url: server.url, retries: 0 });
  const cli = (args: string[]) => runCli(args, { env: { AQ_URL: server.url } });
  return { server, aq, cli };
}

describe('aq.schedules', () => {
  it('upserts, lists, gets, updates, pauses, resumes, triggers and deletes', async () => {
    const { aq } = await setup();
    const a = await aq.schedules.upsert({ id: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Berlin', task });
    expect(a).toMatchObject({ id: 'nightly', timezone: 'Europe/Berlin', paused: false, catchUp: 'latest' });
    const again = await aq.schedules.upsert({ id: 'nightly', cron: '0 3 * * *', timezone: 'Europe/Berlin', task });
    expect(again.nextFireAt).toBe(a.nextFireAt);
    const gen = await aq.schedules.create({ cron: '@hourly', task });
    expect(gen.id).toMatch(/^sch_/);
    expect((await aq.schedules.list()).map((s) => s.id).sort()).toEqual([gen.id, 'nightly'].sort());
    expect(await aq.schedules.get('nightly')).toEqual(again);
    expect(await aq.schedules.update('nightly', { catchUp: 'none' })).toMatchObject({ catchUp: 'none', nextFireAt: a.nextFireAt });
    expect(await aq.schedules.pause('nightly')).toMatchObject({ paused: true, nextFireAt: null });
    expect((await aq.schedules.resume('nightly')).nextFireAt).toBe(a.nextFireAt);
    const t = await aq.schedules.trigger('nightly');
    expect(t).toMatchObject({ scheduleId: 'nightly', status: 'pending' });
    await aq.schedules.delete('nightly');
    const err = await aq.schedules.get('nightly').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AsyncQueueError);
    expect(err).toMatchObject({ status: 404, code: 'not_found' });
    const bad = await aq.schedules.upsert({ cron: '0 25 * * *', task }).catch((e: unknown) => e);
    expect(bad).toMatchObject({ status: 400, code: 'invalid_request' });
    expect((bad as Error).message).toMatch(/cron: invalid cron expression/);
  });
});

describe('aq schedules', () => {
  it('creates, upserts by --id, lists, shows, pauses, resumes, triggers and deletes', async () => {
    const { aq, cli } = await setup();
    const c = await cli(['schedules', 'create', '0 3 * * *', 'http://127.0.0.1:9/report', '--id', 'nightly', '--tz', 'Europe/Berlin', '-q', 'hold', '-d', '{"kind":"nightly"}', '--catch-up', 'all', '--catch-up-max', '3']);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
    expect(c.stdout).toMatch(/^created schedule nightly; next fire \d{4}-\d\d-\d\dT/);
    expect(await aq.schedules.get('nightly')).toMatchObject({ catchUp: 'all', catchUpMax: 3, task: { targetUrl: 'http://127.0.0.1:9/report', queue: 'hold', payload: { kind: 'nightly' } } });
    const u = await cli(['schedules', 'create', '0 4 * * *', 'http://127.0.0.1:9/report', '--id', 'nightly', '-q', 'hold']);
    expect(u.stdout).toMatch(/^updated schedule nightly;/);
    expect((await aq.schedules.get('nightly')).cron).toBe('0 4 * * *');

    const list = await cli(['schedules', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^ID +CRON +ZONE +STATE +NEXT +LAST +TARGET$/);
    expect(list.stdout.split('\n')[1]).toMatch(/^nightly +0 4 \* \* \* +UTC +active +in \d+[smh] +- +POST http:\/\/127\.0\.0\.1:9\/report$/);
    expect((await cli(['schedules', 'get', 'nightly'])).stdout).toMatch(/^id +nightly\ncron +0 4 \* \* \* \(UTC\)\nstate +active\n/);

    expect((await cli(['schedules', 'pause', 'nightly'])).stdout).toBe('paused schedule nightly\n');
    expect((await cli(['schedules', 'resume', 'nightly'])).stdout).toMatch(/^resumed schedule nightly; next fire /);
    const tr = await cli(['schedules', 'trigger', 'nightly', '--json']);
    expect(JSON.parse(tr.stdout)).toMatchObject({ scheduleId: 'nightly', status: 'pending' });
    expect((await cli(['schedules', 'delete', 'nightly'])).stdout).toBe('deleted schedule nightly\n');
    expect(await aq.schedules.list()).toEqual([]);
  });

  it('reads a schedule body from --file; flags override it', async () => {
    const { aq, cli } = await setup();
    const file = path.join(tempDir(), 'nightly.json');
    fs.writeFileSync(file, JSON.stringify({ id: 'from-file', cron: '*/5 * * * *', timezone: 'Asia/Tokyo', task: { ...task, retries: 7 } }));
    const r = await cli(['schedules', 'create', '--file', file, '--catch-up', 'none']);
    expect(r.code).toBe(0);
    expect(await aq.schedules.get('from-file')).toMatchObject({ cron: '*/5 * * * *', timezone: 'Asia/Tokyo', catchUp: 'none', task: { retries: 7 } });
  });

  it('exits 1 with the server’s reason for a bad expression or an unknown id, 2 for usage errors', async () => {
    const { cli } = await setup();
    const bad = await cli(['schedules', 'create', '0 3 * * * * *', 'http://127.0.0.1:9/x']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/^error: invalid request: cron: invalid cron expression "0 3 \* \* \* \* \*": .*5 or 6 parts/);
    expect(await cli(['schedules', 'trigger', 'nope'])).toMatchObject({ code: 1, stderr: 'error: schedule nope not found\n' });
    const missing = await cli(['schedules', 'create', '0 3 * * *']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/give a target URL/);
    expect((await cli(['schedules', 'create', '0 3 * * *', 'http://x', '--catch-up', 'some'])).code).toBe(2);
  });
});
