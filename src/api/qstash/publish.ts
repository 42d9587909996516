// Publishing under `/v2` (api.md §14): `POST /v2/publish/{destination}`,
// `POST /v2/enqueue/{queue}/{destination}` and `POST /v2/batch`. Every message of a call is
// validated first and stored in one write, so a refused call creates nothing.
import type { Context, Hono } from 'hono';
import type { CreateResult } from '../../store/store.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, QstashError } from './errors.js';
import { destinationKind, flowLimits, prepareMessage, type HeaderList, type Prepared, type PublishInput } from './message.js';
import { ensureQstashQueue, isPinned } from './queue-settings.js';

const MAX_BATCH = 1000;

/** The part of the raw request URL after `prefix`, with `qstash_token` taken out of its query string. */
export function rawDestination(c: Context, prefix: RegExp): string {
  const raw = c.req.url.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  const m = prefix.exec(raw);
  if (!m) throw badRequest('missing destination');
  let rest = raw.slice(m[0].length);
  const q = rest.indexOf('?');
  if (q >= 0) {
    const kept = rest.slice(q + 1).split('&').filter((p) => p !== '' && !/^qstash_token(=|$)/.test(p));
    rest = rest.slice(0, q) + (kept.length > 0 ? '?' + kept.join('&') : '');
  }
  // A destination sent percent-encoded as one path segment (https%3A%2F%2F…) is decoded once.
  if (/^https?%3A/i.test(rest)) {
    try {
      rest = decodeURIComponent(rest);
    } catch {
      throw badRequest('destination is not valid percent-encoding');
    }
  }
  // Some proxies merge the "//" of an embedded URL into "/".
  rest = rest.replace(/^(https?):\/(?!\/)/i, '$1://');
  if (rest === '') throw badRequest('missing destination');
  return rest;
}

export function headerList(h: Headers): HeaderList {
  return [...h.entries()].map(([k, v]) => [k.toLowerCase(), v]);
}

function callerIp(c: Context): string | null {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined;
  return env?.incoming?.socket?.remoteAddress ?? null;
}

type Reply = { messageId: string; url: string; deduplicated?: boolean };

/** The publish answer of one message: one entry for a URL, a list for a URL group. */
function replyOf(p: Prepared, results: CreateResult[]): Reply | Reply[] {
  const replies = results.map((r) => {
    const out: Reply = { messageId: r.task.id, url: r.task.targetUrl };
    if (!r.created) out.deduplicated = true;
    return out;
  });
  return p.urlGroup === null ? replies[0]! : replies;
}

export function registerPublishRoutes(v2: Hono, deps: ApiDeps): void {
  const { store, clock } = deps;

  async function prepare(input: Omit<PublishInput, 'endpoints'>): Promise<Prepared> {
    let endpoints: PublishInput['endpoints'];
    if (destinationKind(input.destination) === 'group') endpoints = (await store.getUrlGroup(input.destination))?.endpoints;
    return prepareMessage({ ...input, endpoints }, deps);
  }

  /** Queue and flow-control settings the messages ask for, then the tasks themselves, in one write. */
  async function store_(prepared: Prepared[], queues: string[], now: number): Promise<CreateResult[]> {
    for (const q of new Set(queues)) await ensureQstashQueue(store, q, now);
    const seen = new Set<string>();
    for (const p of prepared) {
      const fc = p.flowControl;
      if (!fc || seen.has(fc.key)) continue;
      seen.add(fc.key);
      const limits = flowLimits(fc);
      const queue = p.tasks[0]?.queue;
      if (queue && Object.keys(limits).length > 0 && queue.startsWith('fc.') && !(await isPinned(store, fc.key))) await store.updateQueue(queue, limits, now);
    }
    const results = await store.createTasks(prepared.flatMap((p) => p.tasks));
    if (results.some((r) => r.created)) deps.wake();
    return results;
  }

  async function single(c: Context, destination: string, queue: string | undefined) {
    const now = clock.now();
    const body = Buffer.from(await c.req.arrayBuffer());
    const p = await prepare({ destination, headers: headerList(c.req.raw.headers), body, queue, now, callerIp: callerIp(c) });
    const results = await store_([p], queue ? [queue] : [], now);
    const reply = replyOf(p, results);
    const duplicate = results.length > 0 && results.every((r) => !r.created);
    return c.json(reply, duplicate ? 202 : 200);
  }

  v2.post('/publish/*', (c) => single(c, rawDestination(c, /^\/v2\/publish\//), undefined));

  v2.post('/enqueue/:queue/*', (c) => {
    const queue = c.req.param('queue');
    return single(c, rawDestination(c, /^\/v2\/enqueue\/[^/]+\//), queue);
  });

  v2.post('/batch', async (c) => {
    let entries: unknown;
    try {
      entries = await c.req.json();
    } catch {
      throw badRequest('the body must be a JSON array of messages');
    }
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_BATCH) throw badRequest(`the body must be a JSON array of 1 to ${MAX_BATCH} messages`);
    const now = clock.now();
    const prepared: Prepared[] = [];
    const queues: string[] = [];
    for (const [i, e] of entries.entries()) {
      try {
        if (typeof e !== 'object' || e === null || Array.isArray(e)) throw badRequest('must be an object');
        const { destination, headers, body, queue } = e as Record<string, unknown>;
        if (typeof destination !== 'string' || destination === '') throw badRequest('destination must be a URL or a URL group name');
        if (headers !== undefined && (typeof headers !== 'object' || headers === null || Array.isArray(headers))) throw badRequest('headers must be an object of strings');
        const list: HeaderList = [];
        for (const [k, v] of Object.entries((headers ?? {}) as Record<string, unknown>)) {
          if (typeof v !== 'string') throw badRequest(`header ${k.slice(0, 64)} must be a string`);
          list.push([k.toLowerCase(), v]);
        }
        if (body !== undefined && body !== null && typeof body !== 'string') throw badRequest('body must be a string');
        if (queue !== undefined && typeof queue !== 'string') throw badRequest('queue must be a string');
        const bytes = Buffer.from((body as string | undefined) ?? '', 'utf8');
        prepared.push(await prepare({ destination, headers: list, body: bytes, queue: queue as string | undefined, now, callerIp: callerIp(c) }));
        if (queue) queues.push(queue as string);
      } catch (err) {
        if (err instanceof QstashError) throw new QstashError(err.status, `message ${i}: ${err.message}`);
        throw err;
      }
    }
    const results = await store_(prepared, queues, now);
    let at = 0;
    const replies = prepared.map((p) => {
      const mine = results.slice(at, at + p.tasks.length);
      at += p.tasks.length;
      return replyOf(p, mine);
    });
    return c.json(replies, 200);
  });
}
