// The SDK's requester against scripted HTTP servers: auth and URLs, error mapping, and
// which transient failures are retried (reads always, creates only with an idempotency key).
import { describe, expect, it } from 'vitest';
import { AsyncQueue, AsyncQueueError, BatchError } from '../../src/index.js';
import { closedUrl, startStub } from './stub-server.js';

const task = (id: string) => ({ id, status: 'pending' });

describe('AsyncQueue requests', () => {
  it('sends the bearer token, JSON bodies and query strings to the configured URL', async () => {
    const stub = await startStub((_n, req) => ({ status: 200, json: req.method === 'POST' ? task('tsk_1') : { tasks: [], nextCursor: null } }));
    const aq = new AsyncQueue({ url: stub.url + '/', token: 's3cret' });
    await aq.tasks.list({ status: 'failed', queue: 'emails', limit: 10 });
    await aq.tasks.create({ targetUrl: 'http://example.com/x', payload: { a: 1 } });
    expect(stub.seen[0]).toMatchObject({ method: 'GET', url: '/v1/tasks?status=failed&queue=emails&limit=10' });
    expect(stub.seen[0]!.headers.authorization).toBe('Bearer s3cret');
    expect(stub.seen[1]).toMatchObject({ method: 'POST', url: '/v1/tasks' });
    expect(stub.seen[1]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(stub.seen[1]!.body)).toEqual({ targetUrl: 'http://example.com/x', payload: { a: 1 } });
  });

  it('turns an error body into an AsyncQueueError with status, code, message and details', async () => {
    const stub = await startStub(() => ({ status: 400, json: { error: { code: 'invalid_request', message: 'invalid task', details: [{ path: ['targetUrl'], message: 'required' }] } } }));
    const err = await new AsyncQueue({ url: stub.url }).tasks.create({ targetUrl: '' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AsyncQueueError);
    expect(err).toMatchObject({ status: 400, code: 'invalid_request', message: 'invalid task', details: [{ path: ['targetUrl'], message: 'required' }] });
  });

  it('names the URL it could not reach, with status 0 and code "unreachable"', async () => {
    const url = await closedUrl();
    const err = await new AsyncQueue({ url, retries: 0 }).stats().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AsyncQueueError', status: 0, code: 'unreachable' });
    expect((err as Error).message).toContain(`cannot reach AsyncQueue at ${url}`);
  });

  it('retries a read after 503 and 502 answers', async () => {
    const stub = await startStub((n) => (n <= 2 ? { status: n === 1 ? 503 : 502, text: 'busy' } : { status: 200, json: task('tsk_1') }));
    expect(await new AsyncQueue({ url: stub.url }).tasks.get('tsk_1')).toEqual(task('tsk_1'));
    expect(stub.seen).toHaveLength(3);
  });

  it('gives up on a read after the configured number of retries', async () => {
    const stub = await startStub(() => ({ status: 504, text: 'gateway timeout' }));
    const err = await new AsyncQueue({ url: stub.url, retries: 1 }).tasks.get('tsk_1').catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 504, code: 'http_504' });
    expect(stub.seen).toHaveLength(2);
  });

  it('does not retry a create without an idempotency key', async () => {
    const stub = await startStub(() => ({ status: 503, json: { error: { code: 'unavailable', message: 'store busy' } } }));
    const err = await new AsyncQueue({ url: stub.url }).tasks.create({ targetUrl: 'http://example.com/x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 503, code: 'unavailable' });
    expect(stub.seen).toHaveLength(1);
  });

  it('retries a create made idempotent, sending the same generated key each time', async () => {
    const stub = await startStub((n) => (n === 1 ? { status: 503, json: { error: { code: 'unavailable', message: 'busy' } } } : { status: 201, json: task('tsk_1') }));
    await new AsyncQueue({ url: stub.url }).tasks.create({ targetUrl: 'http://example.com/x' }, { idempotent: true });
    const keys = stub.seen.map((s) => JSON.parse(s.body).idempotencyKey);
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^aq_[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
  });

  it('never retries a 4xx, even for reads', async () => {
    const stub = await startStub(() => ({ status: 404, json: { error: { code: 'not_found', message: 'no such task' } } }));
    await expect(new AsyncQueue({ url: stub.url }).tasks.get('tsk_x')).rejects.toMatchObject({ status: 404, code: 'not_found' });
    expect(stub.seen).toHaveLength(1);
  });

  it('reports a non-JSON error page with its status and a short excerpt', async () => {
    const stub = await startStub(() => ({ status: 500, text: '<html>oops</html>' }));
    const err = await new AsyncQueue({ url: stub.url }).stats().catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 500, code: 'http_500' });
    expect((err as Error).message).toContain('oops');
  });

  it('fails with code "timeout" when the server does not answer in time', async () => {
    const stub = await startStub(() => ({ status: 200, json: {} }));
    const slow = new AsyncQueue({ url: stub.url, timeout: 0.2, fetch: (input, init) => new Promise((resolve, reject) => {
      init?.signal?.addEventListener('abort', () => reject(init.signal!.reason));
      void input;
    }) as Promise<Response> });
    await expect(slow.stats()).rejects.toMatchObject({ status: 0, code: 'timeout' });
  });
});

describe('tasks.createMany', () => {
  it('splits large inputs into batches of at most 1000, in order', async () => {
    const stub = await startStub((_n, req) => ({ status: 201, json: { tasks: JSON.parse(req.body).tasks.map((t: { targetUrl: string }) => task(t.targetUrl)) } }));
    const inputs = Array.from({ length: 2500 }, (_, i) => ({ targetUrl: `http://example.com/${i}` }));
    const offsets: number[] = [];
    const tasks = await new AsyncQueue({ url: stub.url }).tasks.createMany(inputs, { onBatch: (_t, offset) => offsets.push(offset) });
    expect(stub.seen.map((s) => JSON.parse(s.body).tasks.length)).toEqual([1000, 1000, 500]);
    expect(stub.seen.every((s) => s.url === '/v1/tasks/batch')).toBe(true);
    expect(offsets).toEqual([0, 1000, 2000]);
    expect(tasks.map((t) => t.id)).toEqual(inputs.map((i) => i.targetUrl));
  });

  it('stops at a refused batch and says which tasks were created and which input was invalid', async () => {
    const stub = await startStub((n, req) =>
      n === 2
        ? { status: 400, json: { error: { code: 'invalid_request', message: 'invalid task at index 7', details: [{ path: ['tasks', 7, 'targetUrl'], message: 'invalid url' }] } } }
        : { status: 201, json: { tasks: JSON.parse(req.body).tasks.map(() => task('t')) } },
    );
    const inputs = Array.from({ length: 25 }, (_, i) => ({ targetUrl: `http://example.com/${i}` }));
    const err = await new AsyncQueue({ url: stub.url }).tasks.createMany(inputs, { batchSize: 10 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatchError);
    expect(err).toMatchObject({ status: 400, code: 'invalid_request', offset: 10, index: 17 });
    expect((err as BatchError).created).toHaveLength(10);
    expect(stub.seen).toHaveLength(2);
  });
});
