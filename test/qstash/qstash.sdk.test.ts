// The official @upstash/qstash SDK against a real AsyncQueue server and real targets on
// 127.0.0.1 (api.md §14): publishing, what the target receives and the Receiver verifies,
// retries, the DLQ, deduplication, delays, queues, URL groups, callbacks, schedules, logs.
import { Client, QstashError, Receiver } from '@upstash/qstash';
import { describe, expect, test } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTarget, type RecordedRequest, type Target } from '../helpers/target.js';
import { waitForTask, waitForTerminal } from '../helpers/tasks.js';

const TOKEN = 'qstash-test-token-0123456789';
/** A retry delay of 10 ms (QStash's default backoff would take 12 s). */
const FAST = '10';

async function setup(opts: Parameters<typeof startServer>[0] = {}) {
  const server = await startServer({ token: TOKEN, ...opts });
  const client = new Client({ baseUrl: server.url, token: TOKEN, retry: false, enableTelemetry: false });
  const keys = (await server.api('/v2/keys')).body as { current: string; next: string };
  const receiver = new Receiver({ currentSigningKey: keys.current, nextSigningKey: keys.next });
  return { server, client, keys, receiver };
}

const header = (r: RecordedRequest, name: string) => {
  const v = r.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

async function verified(receiver: Receiver, r: RecordedRequest, url: string) {
  return receiver.verify({ signature: header(r, 'upstash-signature')!, body: r.body, url });
}

const status = (server: TestServer, id: string, want: string) => waitForTask(server, id, (t) => t.status === want);

describe('QStash SDK: publishing and what the target receives', () => {
  test('publishJSON: the target gets the body as sent with QStash headers, and the Receiver accepts it (not a tampered body)', async () => {
    const { server, client, receiver } = await setup();
    const target = await startTarget();
    const url = `${target.url}/hook?x=1&y=two`;
    const res = await client.publishJSON({ url, body: { hello: 'world', n: 1 }, headers: { 'X-Custom': 'yes' }, label: ['a', 'b'] });
    expect(res.messageId).toMatch(/^tsk_/);
    const [r] = await target.waitForRequests(1);
    expect(r!.path).toBe('/hook?x=1&y=two');
    expect(r!.body).toBe('{"hello":"world","n":1}');
    expect(header(r!, 'content-type')).toBe('application/json');
    expect(header(r!, 'x-custom')).toBe('yes');
    expect(header(r!, 'upstash-message-id')).toBe(res.messageId);
    expect(header(r!, 'upstash-retried')).toBe('0');
    expect(header(r!, 'upstash-telemetry-sdk')).toBeUndefined();
    expect(await verified(receiver, r!, url)).toBe(true);
    await expect(receiver.verify({ signature: header(r!, 'upstash-signature')!, body: r!.body.replace('world', 'WORLD'), url })).rejects.toThrow(/body hash/);
    // The message is an ordinary task: visible on /v1 with what the publisher sent.
    const task = await waitForTerminal(server, res.messageId);
    expect(task.status).toBe('completed');
    expect(task.labels).toEqual(['a', 'b']);
    expect(task.qstash?.kind).toBe('message');
    expect(task.qstash?.sent['upstash-forward-x-custom']).toBe('yes');
    const m = await client.messages.get(res.messageId);
    expect(m).toMatchObject({ messageId: res.messageId, url, method: 'POST', body: '{"hello":"world","n":1}', labels: ['a', 'b'], maxRetries: 3 });
  });

  test('publish passes a non-JSON and a binary body through untouched, with its own Content-Type and method', async () => {
    const { client, receiver } = await setup();
    const target = await startTarget(() => ({ status: 204 }));
    await client.publish({ url: `${target.url}/t`, body: 'plain text, not JSON', headers: { 'Content-Type': 'text/plain' }, method: 'PUT' });
    const [r] = await target.waitForRequests(1);
    expect(r!.method).toBe('PUT');
    expect(r!.body).toBe('plain text, not JSON');
    expect(header(r!, 'content-type')).toBe('text/plain');
    expect(await verified(receiver, r!, `${target.url}/t`)).toBe(true);
  });

  test('a failing target is retried with Upstash-Retried counting up; the DLQ fills on the last failure and a DLQ retry delivers', async () => {
    const { server, client } = await setup();
    let fail = true;
    const target = await startTarget(() => (fail ? { status: 503, body: 'busy' } : { status: 200 }));
    const { messageId } = await client.publishJSON({ url: `${target.url}/r`, body: { a: 1 }, retries: 2, retryDelay: FAST });
    const failed = await waitForTerminal(server, messageId);
    expect(failed.status).toBe('failed');
    expect(target.requests.map((r) => header(r, 'upstash-retried'))).toEqual(['0', '1', '2']);
    const dlq = await client.dlq.listMessages();
    expect(dlq.messages.map((m) => m.dlqId)).toEqual([messageId]);
    expect(dlq.messages[0]).toMatchObject({ messageId, responseStatus: 503, url: `${target.url}/r` });
    expect((await client.dlq.listMessages({ filter: { responseStatus: 404 } })).messages).toEqual([]);
    fail = false;
    const retried = await client.dlq.retry(dlq.messages[0]!.dlqId);
    expect(retried.responses).toEqual([{ messageId }]);
    expect((await waitForTerminal(server, messageId)).status).toBe('completed');
    expect(header(target.requests[3]!, 'upstash-retried')).toBe('0');
    expect((await client.dlq.listMessages()).messages).toEqual([]);
  });

  test('a 489 with Upstash-NonRetryable-Error fails at once; DLQ entries can be read, filtered and deleted one or many', async () => {
    const { server, client } = await setup();
    const target = await startTarget(() => ({ status: 489, headers: { 'Upstash-NonRetryable-Error': 'true' } }));
    const ids: string[] = [];
    for (const label of ['x', 'y', 'y']) ids.push((await client.publishJSON({ url: `${target.url}/n`, body: {}, retries: 5, label })).messageId);
    for (const id of ids) expect((await waitForTerminal(server, id)).status).toBe('failed');
    expect(target.requests).toHaveLength(3); // one attempt each, despite retries: 5
    const first = await client.dlq.listMessages({ count: 2 });
    expect(first.messages).toHaveLength(2);
    expect(first.cursor).toBeTruthy();
    const rest = await client.dlq.listMessages({ count: 2, cursor: first.cursor });
    expect([...first.messages, ...rest.messages].map((m) => m.messageId).sort()).toEqual([...ids].sort());
    expect(rest.cursor).toBeUndefined();
    expect((await client.dlq.listMessages({ filter: { label: 'y' } })).messages).toHaveLength(2);
    expect(await client.dlq.delete(ids[0]!)).toEqual({ deleted: 1 });
    expect(await client.dlq.delete({ filter: { label: 'y' } })).toEqual({ deleted: 2 });
    expect((await client.dlq.listMessages()).messages).toEqual([]);
    expect((await server.api(`/v1/tasks/${ids[0]}`)).status).toBe(404);
  });

  test('deduplication by id and by content answers the first message and creates nothing', async () => {
    const { server, client } = await setup();
    const target = await startTarget();
    const url = `${target.url}/d`;
    const a = await client.publishJSON({ url, body: { n: 1 }, deduplicationId: 'order-7', delay: 3600 });
    const b = await client.publishJSON({ url, body: { n: 2 }, deduplicationId: 'order-7', delay: 3600 });
    expect(b).toEqual({ messageId: a.messageId, url, deduplicated: true });
    const c1 = await client.publishJSON({ url, body: { same: true }, contentBasedDeduplication: true, delay: 3600 });
    const c2 = await client.publishJSON({ url, body: { same: true }, contentBasedDeduplication: true, delay: 3600 });
    const c3 = await client.publishJSON({ url, body: { same: false }, contentBasedDeduplication: true, delay: 3600 });
    expect(c2.messageId).toBe(c1.messageId);
    expect(c2.deduplicated).toBe(true);
    expect(c3.messageId).not.toBe(c1.messageId);
    const list = (await server.api('/v1/tasks')).body.tasks as unknown[];
    expect(list).toHaveLength(3);
  });

  test('delays and not-before set the first run; messages can be read and cancelled one, by filter, or all', async () => {
    const { server, client } = await setup();
    const target = await startTarget();
    const url = `${target.url}/later`;
    const before = Date.now();
    const d = await client.publishJSON({ url, body: {}, delay: '1d10h30m' });
    const notBefore = Math.floor(Date.now() / 1000) + 7200;
    const nb = await client.publishJSON({ url, body: {}, notBefore, label: 'nb' });
    const m = await client.messages.get(d.messageId);
    expect(m.notBefore! - before).toBeGreaterThanOrEqual((86_400 + 36_000 + 1800) * 1000);
    expect(m.notBefore! - m.createdAt).toBe((86_400 + 36_000 + 1800) * 1000);
    expect((await client.messages.get(nb.messageId)).notBefore).toBe(notBefore * 1000);
    expect(await client.messages.cancel(d.messageId)).toEqual({ cancelled: 1 });
    expect((await server.api(`/v1/tasks/${d.messageId}`)).body.status).toBe('cancelled');
    expect(await client.messages.cancel({ filter: { label: 'nb' } })).toEqual({ cancelled: 1 });
    const more = await Promise.all([1, 2, 3].map(() => client.publishJSON({ url, body: {}, delay: 3600 })));
    expect(await client.messages.cancel([more[0]!.messageId])).toEqual({ cancelled: 1 });
    expect(await client.messages.cancel({ all: true })).toEqual({ cancelled: 2 });
    expect(target.requests).toHaveLength(0);
    await expect(client.messages.get('tsk_nope')).rejects.toThrow(QstashError);
  });
});

describe('QStash SDK: queues, flow control and URL groups', () => {
  test("a queue's parallelism holds at the target, and a paused queue delivers nothing until resumed", async () => {
    const { server, client } = await setup();
    const target = await startTarget(() => ({ status: 200, delayMs: 30 }));
    const queue = client.queue({ queueName: 'emails' });
    await queue.upsert({ parallelism: 2 });
    expect(await queue.get()).toMatchObject({ name: 'emails', parallelism: 2, paused: false, lag: 0 });
    const ids = await Promise.all(Array.from({ length: 6 }, (_, i) => queue.enqueueJSON({ url: `${target.url}/q`, body: { i } })));
    for (const { messageId } of ids) expect((await waitForTerminal(server, messageId)).status).toBe('completed');
    expect(target.maxInFlight).toBe(2);
    expect((await client.messages.get(ids[0]!.messageId)).queueName).toBe('emails');

    await queue.pause();
    expect((await queue.get()).paused).toBe(true);
    const held = await queue.enqueueJSON({ url: `${target.url}/held`, body: {} });
    // A message on another queue, published after it, is delivered while the paused one waits.
    const other = await client.publishJSON({ url: `${target.url}/other`, body: {} });
    expect((await waitForTerminal(server, other.messageId)).status).toBe('completed');
    expect((await server.api(`/v1/tasks/${held.messageId}`)).body.status).toBe('pending');
    expect((await queue.get()).lag).toBe(1);
    await queue.resume();
    expect((await waitForTerminal(server, held.messageId)).status).toBe('completed');

    expect((await queue.list()).map((q) => q.name)).toContain('emails');
    await queue.delete();
    await expect(queue.get()).rejects.toThrow(QstashError);
  });

  test('enqueue to an unknown queue creates it with parallelism 1, as QStash does', async () => {
    const { client } = await setup();
    const target = await startTarget();
    await client.queue({ queueName: 'fresh' }).enqueueJSON({ url: `${target.url}/f`, body: {} });
    expect(await client.queue({ queueName: 'fresh' }).get()).toMatchObject({ name: 'fresh', parallelism: 1 });
  });

  test('a flow-control key maps onto its own queue with the given parallelism; pause, resume, pin and global parallelism', async () => {
    const { server, client } = await setup();
    const target = await startTarget(() => ({ status: 200, delayMs: 20 }));
    const ids = await Promise.all(Array.from({ length: 4 }, () => client.publishJSON({ url: `${target.url}/fc`, body: {}, flowControl: { key: 'tenant-1', parallelism: 1 } })));
    for (const { messageId } of ids) expect((await waitForTerminal(server, messageId)).status).toBe('completed');
    expect(target.maxInFlight).toBe(1);
    expect(await client.flowControl.get('tenant-1')).toMatchObject({ flowControlKey: 'tenant-1', parallelismMax: 1, waitListSize: 0, isPaused: false });
    await client.flowControl.pause('tenant-1');
    expect((await client.flowControl.get('tenant-1')).isPaused).toBe(true);
    await client.flowControl.resume('tenant-1');
    await client.flowControl.pin('tenant-1', { parallelism: 3 });
    expect(await client.flowControl.get('tenant-1')).toMatchObject({ parallelismMax: 3, isPinnedParallelism: true });
    // While pinned, a message's own flow-control value does not change the key's limits.
    await client.publishJSON({ url: `${target.url}/fc`, body: {}, flowControl: { key: 'tenant-1', parallelism: 1 } });
    expect((await client.flowControl.get('tenant-1')).parallelismMax).toBe(3);
    await client.flowControl.unpin('tenant-1', { parallelism: true });
    expect((await client.flowControl.get('tenant-1')).isPinnedParallelism).toBe(false);
    await client.flowControl.resetRate('tenant-1');
    expect(await client.flowControl.getGlobalParallelism()).toMatchObject({ parallelismMax: 100 });
  });

  test('a publish to a URL group makes one task per endpoint; endpoints are added, listed, removed, and the group deleted', async () => {
    const { server, client, receiver } = await setup();
    const a = await startTarget();
    const b = await startTarget();
    await client.urlGroups.addEndpoints({ name: 'fanout', endpoints: [{ url: `${a.url}/a` }, { name: 'bee', url: `${b.url}/b` }] });
    const group = await client.urlGroups.get('fanout');
    expect(group.endpoints).toHaveLength(2);
    expect(group.endpoints).toEqual(expect.arrayContaining([{ url: `${a.url}/a` }, { name: 'bee', url: `${b.url}/b` }]));
    expect((await client.urlGroups.list()).map((g) => g.name)).toEqual(['fanout']);
    const res = await client.publishJSON({ urlGroup: 'fanout', body: { to: 'all' } });
    expect(res.map((r) => r.url).sort()).toEqual([`${a.url}/a`, `${b.url}/b`].sort());
    const [ra] = await a.waitForRequests(1);
    const [rb] = await b.waitForRequests(1);
    expect(header(ra!, 'upstash-topic-name')).toBe('fanout');
    expect(header(rb!, 'upstash-endpoint-name')).toBe('bee');
    expect(await verified(receiver, rb!, `${b.url}/b`)).toBe(true);
    for (const r of res) expect((await waitForTerminal(server, r.messageId)).status).toBe('completed');
    expect((await client.messages.get(res[0]!.messageId)).urlGroup).toBe('fanout');

    await client.urlGroups.removeEndpoints({ name: 'fanout', endpoints: [{ name: 'bee' }] });
    expect((await client.urlGroups.get('fanout')).endpoints).toEqual([{ url: `${a.url}/a` }]);
    await client.urlGroups.delete('fanout');
    await expect(client.urlGroups.get('fanout')).rejects.toThrow(QstashError);
    await expect(client.publishJSON({ urlGroup: 'fanout', body: {} })).rejects.toThrow(/not found/);
  });

  test('batch and batchJSON publish to URLs, URL groups and queues in one call', async () => {
    const { server, client } = await setup();
    const target = await startTarget();
    await client.urlGroups.addEndpoints({ name: 'pair', endpoints: [{ url: `${target.url}/g1` }, { url: `${target.url}/g2` }] });
    const res = (await client.batchJSON([
      { url: `${target.url}/one`, body: { n: 1 } },
      { urlGroup: 'pair', body: { n: 2 } },
      { url: `${target.url}/three`, body: { n: 3 }, queueName: 'batchq' },
    ])) as unknown as [{ messageId: string }, { messageId: string }[], { messageId: string }];
    expect(res[1]).toHaveLength(2);
    const ids = [res[0].messageId, ...res[1].map((r) => r.messageId), res[2].messageId];
    for (const id of ids) expect((await waitForTerminal(server, id)).status).toBe('completed');
    expect(target.requests.map((r) => r.path).sort()).toEqual(['/g1', '/g2', '/one', '/three']);
    expect((await client.messages.get(res[2].messageId)).queueName).toBe('batchq');
    // One invalid message refuses the whole batch, naming it.
    await expect(client.batch([{ url: `${target.url}/ok`, body: 'x' }, { url: 'ftp://nope', body: 'y' }])).rejects.toThrow(/message 1/);
    expect((await server.api('/v1/tasks')).body.tasks).toHaveLength(4);
  });
});

describe('QStash SDK: callbacks, schedules, logs and errors', () => {
  async function callbackReceiver(): Promise<Target> {
    return startTarget(() => ({ status: 200 }));
  }

  test('a callback gets the response (base64), a failure callback the last failure; both signed', async () => {
    const { client, receiver } = await setup();
    const target = await startTarget((r) => (r.path === '/ok' ? { status: 201, body: 'done!', headers: { 'x-answer': '42' } } : { status: 500, body: 'broken' }));
    const cb = await callbackReceiver();
    const ok = await client.publishJSON({ url: `${target.url}/ok`, body: { job: 1 }, callback: `${cb.url}/cb`, failureCallback: `${cb.url}/fail` });
    const bad = await client.publishJSON({ url: `${target.url}/bad`, body: { job: 2 }, retries: 1, retryDelay: FAST, callback: `${cb.url}/cb`, failureCallback: `${cb.url}/fail` });
    const got = await cb.waitForRequests(2);
    const success = got.find((r) => r.path === '/cb')!;
    const failure = got.find((r) => r.path === '/fail')!;
    expect(success.json).toMatchObject({ status: 201, retried: 0, maxRetries: 3, sourceMessageId: ok.messageId, url: `${target.url}/ok`, method: 'POST' });
    expect(Buffer.from(success.json.body, 'base64').toString()).toBe('done!');
    expect(success.json.header['x-answer']).toEqual(['42']);
    expect(Buffer.from(success.json.sourceBody, 'base64').toString()).toBe('{"job":1}');
    expect(failure.json).toMatchObject({ status: 500, retried: 1, maxRetries: 1, sourceMessageId: bad.messageId, dlqId: bad.messageId });
    expect(Buffer.from(failure.json.body, 'base64').toString()).toBe('broken');
    expect(await verified(receiver, success, `${cb.url}/cb`)).toBe(true);
    expect(await verified(receiver, failure, `${cb.url}/fail`)).toBe(true);
    expect(cb.requests).toHaveLength(2);
  });

  test('schedules: create with Upstash-Cron, get, list, pause, resume, delete; a firing carries Upstash-Schedule-Id', async () => {
    const { server, client } = await setup();
    const target = await startTarget();
    const { scheduleId } = await client.schedules.create({
      destination: `${target.url}/cron`, cron: 'CRON_TZ=Europe/Berlin 0 3 * * *', body: '{"nightly":true}', scheduleId: 'nightly', retries: 1, label: 'ops',
    });
    expect(scheduleId).toBe('nightly');
    const s = await client.schedules.get('nightly');
    expect(s).toMatchObject({ scheduleId: 'nightly', cron: 'CRON_TZ=Europe/Berlin 0 3 * * *', destination: `${target.url}/cron`, retries: 1, isPaused: false, body: '{"nightly":true}' });
    expect(s.nextScheduleTime).toBeGreaterThan(Date.now());
    expect((await client.schedules.list()).map((x) => x.scheduleId)).toEqual(['nightly']);
    await client.schedules.pause({ schedule: 'nightly' });
    expect((await client.schedules.get('nightly')).isPaused).toBe(true);
    await client.schedules.resume({ schedule: 'nightly' });
    expect((await client.schedules.get('nightly')).isPaused).toBe(false);
    // Fire it now through /v1: the task is a QStash message of the schedule.
    const fired = await server.api('/v1/schedules/nightly/trigger', { method: 'POST' });
    expect(fired.status).toBeLessThan(300);
    const [r] = await target.waitForRequests(1);
    expect(header(r!, 'upstash-schedule-id')).toBe('nightly');
    expect(r!.body).toBe('{"nightly":true}');
    await client.schedules.delete('nightly');
    await expect(client.schedules.get('nightly')).rejects.toThrow(QstashError);
    await expect(client.schedules.create({ destination: `${target.url}/x`, cron: 'not a cron' })).rejects.toThrow(/Upstash-Cron/);
  });

  test('logs list each message’s events, newest first, with filters and a cursor', async () => {
    const { server, client } = await setup();
    let n = 0;
    const target = await startTarget(() => (n++ === 0 ? { status: 500 } : { status: 200 }));
    const { messageId } = await client.publishJSON({ url: `${target.url}/l`, body: {}, retryDelay: FAST, label: 'logme' });
    expect((await waitForTerminal(server, messageId)).status).toBe('completed');
    const { logs } = await client.logs({ filter: { label: 'logme' } });
    expect(logs.map((l) => l.state)).toEqual(['DELIVERED', 'ERROR', 'CREATED']);
    expect(logs.every((l) => l.messageId === messageId)).toBe(true);
    expect((await client.logs({ filter: { state: 'ERROR' } })).logs).toHaveLength(1);
    const other = await client.publishJSON({ url: `${target.url}/l2`, body: {}, delay: 3600 });
    const page = await client.logs({ count: 1 });
    expect(page.logs[0]!.messageId).toBe(other.messageId);
    expect(page.cursor).toBeTruthy();
    expect((await client.logs({ count: 1, cursor: page.cursor })).logs[0]!.messageId).toBe(messageId);
  });

  test("errors come in QStash's shape and codes; the token works as Bearer and as ?qstash_token=", async () => {
    const { server, client } = await setup();
    const bad = await client.publishJSON({ url: 'http://127.0.0.1:9/x', body: {}, retryDelay: 'pow(2, retried' }).catch((e: QstashError) => e);
    expect(bad).toBeInstanceOf(QstashError);
    expect((bad as QstashError).status).toBe(400);
    expect(JSON.parse((bad as QstashError).message)).toEqual({ error: expect.stringMatching(/^Upstash-Retry-Delay: expected "\)"/) });
    const wrong = new Client({ baseUrl: server.url, token: 'wrong', retry: false });
    await expect(wrong.queue().list()).rejects.toMatchObject({ status: 401 });
    const viaQuery = await fetch(`${server.url}/v2/keys?qstash_token=${TOKEN}`);
    expect(viaQuery.status).toBe(200);
    const missing = await server.api('/v2/nothing-here');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: expect.any(String) });
    expect((await server.api('/v1/tasks')).body.tasks).toEqual([]);
  });
});

describe('QStash messages in the dashboard', () => {
  test('the task page marks a QStash message and shows the headers it was published with (credentials masked); the list tags it', async () => {
    const server = await startServer();
    const client = new Client({ baseUrl: server.url, token: 'any', retry: false, enableTelemetry: false });
    const { messageId } = await client.publishJSON({
      url: 'http://127.0.0.1:9/never', body: { a: 1 }, delay: 3600, retries: 2, headers: { 'X-Api-Key': 'secret-value-0123456789abcdef' },
      callback: 'http://127.0.0.1:9/cb',
    });
    const page = await (await fetch(`${server.url}/tasks/${messageId}`)).text();
    expect(page).toContain('QStash message');
    expect(page).toContain('Headers as sent');
    expect(page).toContain('upstash-retries');
    expect(page).toContain('http://127.0.0.1:9/cb');
    expect(page).not.toContain('secret-value-0123456789abcdef');
    const list = await (await fetch(`${server.url}/tasks`)).text();
    expect(list).toContain('qstash-tag');
  });
});

describe('QStash SDK: the remaining calls', () => {
  test('deprecated and alias calls: messages.delete/deleteMany/deleteAll, dlq.deleteMany, DLQ retry by filter, topics, events', async () => {
    const { server, client } = await setup();
    const target = await startTarget(() => ({ status: 500 }));
    const url = `${target.url}/m`;
    const later = await Promise.all([1, 2, 3, 4].map(() => client.publishJSON({ url, body: {}, delay: 3600 })));
    await client.messages.delete(later[0]!.messageId);
    expect(await client.messages.deleteMany([later[1]!.messageId])).toBe(1);
    expect(await client.messages.deleteAll()).toBe(2);
    const failing = await Promise.all(['r', 'r', 'd'].map((label) => client.publishJSON({ url, body: {}, retries: 0, label })));
    for (const f of failing) expect((await waitForTerminal(server, f.messageId)).status).toBe('failed');
    const retried = await client.dlq.retry({ filter: { label: 'r' } });
    expect(retried.responses.map((r) => r.messageId).sort()).toEqual([failing[0]!.messageId, failing[1]!.messageId].sort());
    for (const f of failing.slice(0, 2)) expect((await waitForTerminal(server, f.messageId)).status).toBe('failed');
    expect(await client.dlq.deleteMany({ dlqIds: [failing[2]!.messageId] })).toEqual({ deleted: 1 });
    expect(await client.dlq.delete({ all: true })).toEqual({ deleted: 2 });
    await client.topics.addEndpoints({ name: 'legacy', endpoints: [{ url }] });
    expect((await client.topics.list()).map((g) => g.name)).toEqual(['legacy']);
    const { events } = await client.events({ filter: { url } });
    expect(events.length).toBeGreaterThan(0);
    expect(events.every((e) => e.url === url)).toBe(true);
  });
});
