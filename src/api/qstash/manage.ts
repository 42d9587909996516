// Queues, URL groups, flow control and signing keys under `/v2` (api.md §14). QStash queues are
// AsyncQueue queues (`parallelism` = concurrency); a flow-control key is the queue `fc.<key>`
// until per-key concurrency exists; URL groups live in the store.
import type { Context, Hono } from 'hono';
import type { ApiDeps } from '../deps.js';
import { badRequest, notFound } from './errors.js';
import { checkUrl, flowQueue, NAME, parseFlowControl } from './message.js';
import { forgetQueue, isPinned, queueTimes, setPinned, touchQueue } from './queue-settings.js';
import { toQueueResponse } from './views.js';

async function jsonBody(c: Context): Promise<Record<string, unknown>> {
  let v: unknown;
  try {
    v = await c.req.json();
  } catch {
    throw badRequest('the body must be a JSON object');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest('the body must be a JSON object');
  return v as Record<string, unknown>;
}

function name(v: unknown, what: string): string {
  if (typeof v !== 'string' || !NAME.test(v)) throw badRequest(`${what} must match [A-Za-z0-9_.-]{1,64}`);
  return v;
}

function parallelismOf(v: unknown): number {
  if (v === undefined || v === null) return 1;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > 100_000) throw badRequest('parallelism must be an integer from 1 to 100000');
  return v;
}

export function registerManageRoutes(v2: Hono, deps: ApiDeps): void {
  const { store, clock } = deps;

  const queue = async (n: string) => {
    const q = await store.getQueue(name(n, 'queue name'));
    if (!q) throw notFound('queue');
    return q;
  };

  v2.post('/queues', async (c) => {
    const b = await jsonBody(c);
    const queueName = name(b.queueName, 'queueName');
    if (b.paused !== undefined && typeof b.paused !== 'boolean') throw badRequest('paused must be true or false');
    const now = clock.now();
    await store.updateQueue(queueName, { concurrency: parallelismOf(b.parallelism), paused: b.paused === true }, now);
    await touchQueue(store, queueName, now);
    deps.wake();
    return c.json({}, 200);
  });

  v2.get('/queues', async (c) => {
    const list = await store.listQueues();
    return c.json(await Promise.all(list.map(async (q) => toQueueResponse(q, await queueTimes(store, q.name)))), 200);
  });

  v2.get('/queues/:name', async (c) => {
    const q = await queue(c.req.param('name'));
    return c.json(toQueueResponse(q, await queueTimes(store, q.name)), 200);
  });

  // QStash deletes a queue with its waiting messages: they are cancelled here, then the queue goes.
  v2.delete('/queues/:name', async (c) => {
    const q = await queue(c.req.param('name'));
    const now = clock.now();
    await store.cancelMany({ queue: q.name }, now);
    await store.deleteQueue(q.name);
    await forgetQueue(store, q.name);
    return c.json({}, 200);
  });

  for (const action of ['pause', 'resume'] as const) {
    v2.post(`/queues/:name/${action}`, async (c) => {
      const q = await queue(c.req.param('name'));
      await store.updateQueue(q.name, { paused: action === 'pause' }, clock.now());
      await touchQueue(store, q.name, clock.now());
      deps.wake();
      return c.json({}, 200);
    });
  }

  // URL groups (the SDK's urlGroups, QStash's topics).
  const endpointsOf = (b: Record<string, unknown>) => {
    const list = b.endpoints;
    if (!Array.isArray(list) || list.length === 0 || list.length > 1000) throw badRequest('endpoints must be an array of 1 to 1000 endpoints');
    return list.map((e, i) => {
      if (typeof e !== 'object' || e === null) throw badRequest(`endpoints[${i}] must be an object`);
      const { url, name: n } = e as Record<string, unknown>;
      if (url !== undefined && typeof url !== 'string') throw badRequest(`endpoints[${i}].url must be a string`);
      if (n !== undefined && n !== null && (typeof n !== 'string' || n.length > 64)) throw badRequest(`endpoints[${i}].name must be a string of up to 64 characters`);
      return { url: url as string | undefined, name: (n as string | undefined) ?? undefined };
    });
  };

  v2.post('/topics/:name/endpoints', async (c) => {
    const group = name(c.req.param('name'), 'url group name');
    const endpoints = endpointsOf(await jsonBody(c)).map((e, i) => {
      if (e.url === undefined) throw badRequest(`endpoints[${i}].url is required`);
      return { url: checkUrl(e.url, `endpoints[${i}].url`, deps), name: e.name ?? null };
    });
    await store.addUrlGroupEndpoints(group, endpoints, clock.now());
    return c.json({}, 200);
  });

  v2.delete('/topics/:name/endpoints', async (c) => {
    const group = name(c.req.param('name'), 'url group name');
    const endpoints = endpointsOf(await jsonBody(c)).map((e, i) => {
      if (e.url === undefined && e.name === undefined) throw badRequest(`endpoints[${i}] needs a url or a name`);
      return e;
    });
    if (!(await store.getUrlGroup(group))) throw notFound('url group');
    await store.removeUrlGroupEndpoints(group, endpoints, clock.now());
    return c.json({}, 200);
  });

  const groupView = (g: { name: string; createdAt: number; updatedAt: number; endpoints: { url: string; name: string | null }[] }) => ({
    name: g.name, createdAt: g.createdAt, updatedAt: g.updatedAt, endpoints: g.endpoints.map((e) => (e.name ? { name: e.name, url: e.url } : { url: e.url })),
  });

  v2.get('/topics', async (c) => c.json((await store.listUrlGroups()).map(groupView), 200));

  v2.get('/topics/:name', async (c) => {
    const g = await store.getUrlGroup(name(c.req.param('name'), 'url group name'));
    if (!g) throw notFound('url group');
    return c.json(groupView(g), 200);
  });

  v2.delete('/topics/:name', async (c) => {
    if (!(await store.deleteUrlGroup(name(c.req.param('name'), 'url group name')))) throw notFound('url group');
    return c.json({}, 200);
  });

  // Signing keys for the SDK's Receiver.
  v2.get('/keys', (c) => c.json({ current: deps.qstash?.keys.current ?? '', next: deps.qstash?.keys.next ?? '' }, 200));

  // Flow control: each key is the queue fc.<key>.
  const flowKey = (c: Context) => {
    const key = c.req.param('key') ?? '';
    parseFlowControl(key, undefined);
    return key;
  };

  v2.get('/flowControl/:key', async (c) => {
    const key = flowKey(c);
    const q = await store.getQueue(flowQueue(key));
    if (!q) throw notFound('flow control key');
    const pin = await isPinned(store, key);
    return c.json(
      {
        flowControlKey: key, waitListSize: q.counts.pending, parallelismMax: q.concurrency ?? 0, parallelismCount: q.counts.running,
        rateMax: q.ratePerSecond ?? 0, rateCount: 0, ratePeriod: 1, ratePeriodStart: 0, isPaused: q.paused,
        isPinnedParallelism: pin?.parallelism ?? false, isPinnedRate: pin?.rate ?? false,
      },
      200,
    );
  });

  v2.get('/globalParallelism', (c) => c.json({ parallelismMax: deps.qstash?.concurrency ?? 0, parallelismCount: deps.inFlight() }, 200));

  for (const action of ['pause', 'resume'] as const) {
    v2.post(`/flowControl/:key/${action}`, async (c) => {
      const key = flowKey(c);
      await store.updateQueue(flowQueue(key), { paused: action === 'pause' }, clock.now());
      deps.wake();
      return c.json({}, 200);
    });
  }

  v2.post('/flowControl/:key/pin', async (c) => {
    const key = flowKey(c);
    const q = new URL(c.req.url).searchParams;
    const parts = ['parallelism', 'rate', 'period'].filter((p) => q.get(p)).map((p) => `${p}=${q.get(p)}${p === 'period' && /^\d+$/.test(q.get(p)!) ? 's' : ''}`);
    const fc = parseFlowControl(key, parts.join(','))!;
    if (fc.parallelism === undefined && fc.rate === undefined) throw badRequest('give parallelism or rate to pin');
    const before = await isPinned(store, key);
    const update: { concurrency?: number; ratePerSecond?: number } = {};
    if (fc.parallelism !== undefined) update.concurrency = fc.parallelism;
    if (fc.rate !== undefined) update.ratePerSecond = fc.rate / (fc.period ?? 1);
    await store.updateQueue(flowQueue(key), update, clock.now());
    await setPinned(store, key, { parallelism: fc.parallelism !== undefined || !!before?.parallelism, rate: fc.rate !== undefined || !!before?.rate });
    deps.wake();
    return c.json({}, 200);
  });

  v2.post('/flowControl/:key/unpin', async (c) => {
    const key = flowKey(c);
    const q = new URL(c.req.url).searchParams;
    const before = (await isPinned(store, key)) ?? { parallelism: false, rate: false };
    await setPinned(store, key, { parallelism: before.parallelism && q.get('parallelism') !== 'true', rate: before.rate && q.get('rate') !== 'true' });
    return c.json({}, 200);
  });

  // The rate window lives in each node's token bucket; there is no stored count to reset.
  v2.post('/flowControl/:key/resetRate', (c) => {
    flowKey(c);
    return c.json({}, 200);
  });
}
