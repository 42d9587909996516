// A batch's batch.done webhook is visible and recoverable like a task's (api.md §13, §16): every
// delivery attempt in GET /v1/batches/:id/deliveries, and POST /v1/batches/:id/redeliver sending
// the latest batch.done again with the same webhook-id. Real server on the virtual clock (the
// retries' backoff passes by advancing it), real HTTP receivers, the SDK.
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/clock.js';
import { AsyncQueue, AsyncQueueError, verifySignature } from '../../src/index.js';
import { generateSecret } from '../../src/shared/signing.js';
import type { Batch } from '../../src/shared/types.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTarget, type RecordedRequest } from '../helpers/target.js';
import { taskInput } from '../helpers/tasks.js';

const START = Date.parse('2031-03-02T00:00:00.000Z');

/** A batch of two tasks against `targetUrl` whose batch.done goes to `webhookUrl` (if any), once done (long-polled). */
async function doneBatch(server: TestServer, targetUrl: string, webhookUrl?: string): Promise<Batch> {
  const created = await server.api('/v1/tasks/batch', { body: { tasks: [taskInput(targetUrl), taskInput(targetUrl)], batch: webhookUrl ? { webhookUrl } : {} } });
  expect(created.status).toBe(201);
  for (;;) {
    const b = (await server.api(`/v1/batches/${created.body.batchId}?wait=30`)).body as Batch;
    if (b.done) return b;
  }
}

/**
 * The request's signature verifies under `secret` (api.md §5). Its webhook-timestamp is the
 * virtual clock's time when it was sent, years from the wall clock: verified as of then.
 */
function signed(secret: string, r: RecordedRequest): boolean {
  const at = Number(r.headers['webhook-timestamp']) * 1000;
  return at >= START && verifySignature({ secret, headers: r.headers, body: r.body, now: at });
}

/** Advances the virtual clock an hour at a time (each advance settles the sender's work) until `check` passes on the batch. */
async function advanceUntil(server: TestServer, id: string, check: (b: Batch) => boolean): Promise<Batch> {
  for (let hours = 0; hours < 24 * 14; hours++) {
    const b = (await server.api(`/v1/batches/${id}`)).body as Batch;
    if (check(b)) return b;
    expect((await server.api('/v1/clock/advance', { body: { seconds: 3600 } })).status).toBe(200);
  }
  throw new Error(`batch ${id} never passed the check`);
}

describe('batch.done deliveries', () => {
  it('a receiver that fails the batch.done twice, then takes it: the history shows the three attempts with their answers', async () => {
    const secret = generateSecret();
    const server = await startServer({ dev: true, clock: new VirtualClock(START), signingSecret: secret });
    const target = await startTarget();
    const hook = await startTarget((_r, i) => (i < 2 ? { status: 503 } : { status: 200 }));
    const aq = new AsyncQueue({ url: server.url });
    const batch = await doneBatch(server, target.url, hook.url);
    const delivered = await advanceUntil(server, batch.id, (b) => b.webhook?.status === 'delivered');
    expect(delivered.webhook).toEqual({ status: 'delivered', attempts: 3, error: null });
    const deliveries = await aq.batches.deliveries(batch.id);
    expect(deliveries.map((d) => [d.outcome, d.attempt, d.status, d.error?.type])).toEqual([[1, 1, 503, 'http'], [1, 2, 503, 'http'], [1, 3, 200, undefined]]);
    expect(deliveries.every((d) => typeof d.durationMs === 'number')).toBe(true);
    // Oldest first, each after its backoff on the virtual clock.
    const starts = deliveries.map((d) => Date.parse(d.startedAt));
    expect(starts[0]).toBeGreaterThanOrEqual(START);
    expect(starts[1]).toBeGreaterThan(starts[0]!);
    expect(starts[2]).toBeGreaterThan(starts[1]!);
    expect(await server.api(`/v1/batches/${batch.id}/deliveries`)).toMatchObject({ status: 200, body: { deliveries } });
    // Every try carried the same webhook-id and body, signed.
    expect(hook.requests.map((r) => r.headers['webhook-id'])).toEqual([`${batch.id}.1`, `${batch.id}.1`, `${batch.id}.1`]);
    expect(hook.requests.map((r) => r.headers['aq-delivery-attempt'])).toEqual(['1', '2', '3']);
    for (const r of hook.requests) expect(signed(secret, r)).toBe(true);
    expect(hook.requests[2]!.json).toMatchObject({ type: 'batch.done', batch: { id: batch.id, total: 2, counts: { completed: 2 }, done: true } });
    expect(signed(generateSecret(), hook.requests[2]!)).toBe(false);
  });

  it('a receiver that always fails: the webhook ends failed; redeliver answers 202 and a new attempt with the same webhook-id arrives, signed', async () => {
    const secret = generateSecret();
    const server = await startServer({ dev: true, clock: new VirtualClock(START), signingSecret: secret });
    const target = await startTarget();
    let up = false;
    const hook = await startTarget(() => (up ? { status: 200 } : { status: 500 }));
    const aq = new AsyncQueue({ url: server.url });
    const batch = await doneBatch(server, target.url, hook.url);
    const failed = await advanceUntil(server, batch.id, (b) => b.webhook?.status === 'failed');
    // The task webhook defaults: 12 retries, 13 attempts in all.
    expect(failed.webhook).toMatchObject({ status: 'failed', attempts: 13, error: { type: 'http', status: 500 } });
    expect(hook.requests).toHaveLength(13);
    const before = hook.requests[0]!;

    up = true;
    const r = await server.api(`/v1/batches/${batch.id}/redeliver`, { method: 'POST' });
    expect(r).toMatchObject({ status: 202, body: { id: batch.id, done: true, webhook: { status: 'pending', attempts: 13 } } });
    const [again] = (await hook.waitForRequests(14)).slice(13);
    expect(again!.headers['webhook-id']).toBe(`${batch.id}.1`);
    expect(again!.headers['aq-batch-id']).toBe(batch.id);
    expect(again!.body).toBe(before.body);
    expect(signed(secret, again!)).toBe(true);
    expect(again!.json).toMatchObject({ type: 'batch.done', batch: { id: batch.id, total: 2, counts: { completed: 2 }, done: true } });
    const delivered = await advanceUntil(server, batch.id, (b) => b.webhook?.status === 'delivered');
    expect(delivered.webhook).toEqual({ status: 'delivered', attempts: 14, error: null });
    const deliveries = await aq.batches.deliveries(batch.id);
    expect(deliveries).toHaveLength(14);
    expect(deliveries.slice(0, 13).every((d) => d.status === 500)).toBe(true);
    expect(deliveries[13]).toMatchObject({ outcome: 1, attempt: 14, status: 200 });

    // The SDK: redeliver answers the batch; a second one sends the same batch.done once more.
    const viaSdk = await aq.batches.redeliver(batch.id);
    expect(viaSdk).toMatchObject({ id: batch.id, webhook: { status: 'pending' } });
    expect((await hook.waitForRequests(15))[14]!.headers['webhook-id']).toBe(`${batch.id}.1`);
    await advanceUntil(server, batch.id, (b) => b.webhook?.status === 'delivered' && b.webhook.attempts === 15);
    expect(hook.requests).toHaveLength(15);
  });

  it('redeliver answers 409 for a batch not done or without a webhookUrl, 404 naming an unknown id, in the SDK too', async () => {
    const server = await startServer();
    const target = await startTarget();
    const hook = await startTarget();
    const aq = new AsyncQueue({ url: server.url });
    expect((await server.api('/v1/queues/held', { method: 'PUT', body: { paused: true } })).status).toBe(200);
    const open = await server.api('/v1/tasks/batch', { body: { tasks: [taskInput(target.url, { queue: 'held' })], batch: { webhookUrl: hook.url } } });
    const openId = open.body.batchId as string;
    const conflict = await server.api(`/v1/batches/${openId}/redeliver`, { method: 'POST' });
    expect(conflict).toMatchObject({ status: 409, body: { error: { code: 'conflict' } } });
    expect(conflict.body.error.message).toContain(openId);
    expect(await server.api(`/v1/batches/${openId}/deliveries`)).toMatchObject({ status: 200, body: { deliveries: [] } });
    const plain = await doneBatch(server, target.url + '/plain');
    expect(await server.api(`/v1/batches/${plain.id}/redeliver`, { method: 'POST' })).toMatchObject({ status: 409 });
    expect(await server.api(`/v1/batches/${plain.id}/deliveries`)).toMatchObject({ status: 200, body: { deliveries: [] } });
    const missing = 'bat_01jd7x0k2m9v4q8r3s6t5w2y1z';
    expect(await server.api(`/v1/batches/${missing}/redeliver`, { method: 'POST' })).toMatchObject({ status: 404, body: { error: { code: 'not_found', message: `batch ${missing} not found` } } });
    expect(await server.api(`/v1/batches/${missing}/deliveries`)).toMatchObject({ status: 404, body: { error: { code: 'not_found', message: `batch ${missing} not found` } } });
    const sdk409 = await aq.batches.redeliver(openId).catch((e: unknown) => e);
    expect(sdk409).toBeInstanceOf(AsyncQueueError);
    expect((sdk409 as AsyncQueueError).status).toBe(409);
    const sdk404 = await aq.batches.deliveries(missing).catch((e: unknown) => e);
    expect(sdk404).toMatchObject({ status: 404, code: 'not_found' });
  });
});
