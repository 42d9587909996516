// Routes of `serve --dev` only (api.md §15): the request sink (/_sink/<name> records, and
// /v1/sink lists) and the virtual clock (/v1/clock). Without --dev none is registered, so
// they answer 404 like any unknown path.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { streamSSE } from 'hono/streaming';
import { sleep, type VirtualClock } from '../../clock.js';
import type { Sink, SinkRequest } from '../../dev/sink.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, errorBody } from '../errors.js';
import { ErrorBodySchema, json } from '../schemas.js';

/** What --dev adds to the API's dependencies. */
export interface DevDeps {
  sink: Sink;
  /** Present with --clock virtual. */
  clock?: VirtualClock;
}

const SINK_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** Longest scripted delay, in seconds. */
export const MAX_SINK_DELAY = 300;
/** Longest scripted answer body, in characters. */
export const MAX_SINK_BODY = 8192;
/** Sink events kept for a stream client that does not read; past it the client is dropped. */
const MAX_SINK_STREAM_BUFFER = 1000;

const errors = { 400: json(ErrorBodySchema, 'invalid_request'), 401: json(ErrorBodySchema, 'unauthorized') };
const SinkName = z.object({ name: z.string().regex(SINK_NAME, 'must match [A-Za-z0-9_.-]{1,64}').openapi({ param: { name: 'name', in: 'path' } }) });
const SinkRequestSchema = z
  .object({
    id: z.number().int(),
    sink: z.string(),
    receivedAt: z.string(),
    method: z.string(),
    path: z.string(),
    query: z.record(z.string(), z.string()),
    headers: z.record(z.string(), z.string()),
    body: z.string(),
    json: z.unknown(),
    truncated: z.boolean(),
    signatureVerified: z.boolean().nullable(),
    answer: z.object({ status: z.number().int(), delayMs: z.number() }),
  })
  .openapi('SinkRequest');
const ClockSchema = z.object({ now: z.string(), virtual: z.boolean() }).openapi('Clock');
const AdvanceSchema = z
  .union([z.strictObject({ seconds: z.number().min(0).max(10 * 365 * 86_400) }), z.strictObject({ to: z.iso.datetime({ offset: true }) })])
  .openapi('ClockAdvance');

const listSinks = createRoute({
  method: 'get', path: '/v1/sink', tags: ['dev'], summary: 'Sinks with their request counts (--dev)',
  responses: { 200: json(z.object({ sinks: z.array(z.object({ name: z.string(), count: z.number(), lastAt: z.string().nullable() })) }), 'the sinks'), ...errors },
});
const listRequests = createRoute({
  method: 'get', path: '/v1/sink/{name}', tags: ['dev'], summary: 'Requests a sink received, oldest first (--dev)',
  request: { params: SinkName, query: z.object({ after: z.string().regex(/^\d{1,15}$/, 'must be a request id').optional() }) },
  responses: { 200: json(z.object({ requests: z.array(SinkRequestSchema) }), 'the requests'), ...errors },
});
const clearSink = createRoute({
  method: 'delete', path: '/v1/sink/{name}', tags: ['dev'], summary: 'Forget a sink’s requests (--dev)',
  request: { params: SinkName },
  responses: { 204: { description: 'cleared' }, ...errors },
});
const getClock = createRoute({
  method: 'get', path: '/v1/clock', tags: ['dev'], summary: 'The server’s time (--dev)',
  responses: { 200: json(ClockSchema, 'now'), ...errors },
});
const advance = createRoute({
  method: 'post', path: '/v1/clock/advance', tags: ['dev'], summary: 'Move the virtual clock forward (--dev --clock virtual)',
  request: { body: { required: true, ...json(AdvanceSchema, '{"seconds": n} or {"to": ISO time}') } },
  responses: { 200: json(ClockSchema, 'the new time, once the work it made due has settled'), 409: json(ErrorBodySchema, 'not a virtual clock'), ...errors },
});

/** Reads a request body up to `max` bytes; `keep` of them are returned as text. */
async function readBody(c: Context, max: number, keep: number): Promise<{ text: string; truncated: boolean }> {
  const body = c.req.raw.body;
  if (!body) return { text: '', truncated: false };
  const chunks: Uint8Array[] = [];
  let total = 0;
  let kept = 0;
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.byteLength;
    if (total > max) throw new ApiError(413, 'payload_too_large', `request body is larger than ${max} bytes (--max-body)`);
    if (kept < keep) {
      const part = chunk.subarray(0, keep - kept);
      chunks.push(part);
      kept += part.byteLength;
    }
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: total > keep };
}

/** The answer a sink request scripted with `?status=&delay=&body=`; throws a 400 for a bad script. */
export function sinkScript(q: Record<string, string>): { status: number; delayMs: number; body: string } {
  let status = 200;
  if (q.status !== undefined) {
    if (!/^\d{3}$/.test(q.status) || Number(q.status) < 200 || Number(q.status) > 599) throw new ApiError(400, 'invalid_request', 'status must be an HTTP status from 200 to 599');
    status = Number(q.status);
  }
  let delayMs = 0;
  if (q.delay !== undefined) {
    if (!/^\d{1,3}(\.\d{1,3})?$/.test(q.delay) || Number(q.delay) > MAX_SINK_DELAY) throw new ApiError(400, 'invalid_request', `delay must be seconds from 0 to ${MAX_SINK_DELAY}`);
    delayMs = Math.round(Number(q.delay) * 1000);
  }
  const body = q.body ?? '{}';
  if (body.length > MAX_SINK_BODY) throw new ApiError(400, 'invalid_request', `body must be at most ${MAX_SINK_BODY} characters`);
  return { status, delayMs, body };
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

export function registerDevRoutes(app: OpenAPIHono, deps: ApiDeps, dev: DevDeps): void {
  const { sink } = dev;
  const receive = async (c: Context) => {
    const name = c.req.param('name') ?? '';
    if (!SINK_NAME.test(name)) return c.json(errorBody('invalid_request', 'a sink name must match [A-Za-z0-9_.-]{1,64}'), 400);
    const prefix = `/_sink/${name}`;
    const rest = c.req.path.slice(prefix.length);
    const query: Record<string, string> = {};
    for (const [k, v] of new URL(c.req.url).searchParams) query[k] ??= v;
    const headers: Record<string, string> = {};
    c.req.raw.headers.forEach((v, k) => (headers[k] = v));
    const { text, truncated } = await readBody(c, deps.maxBody, sink.maxBodyBytes);
    let script: ReturnType<typeof sinkScript>;
    try {
      script = sinkScript(query);
    } catch (err) {
      sink.record({ sink: name, method: c.req.method, path: rest, query, headers, body: text, truncated, answer: { status: 400, delayMs: 0 } }, deps.clock.now());
      throw err;
    }
    sink.record({ sink: name, method: c.req.method, path: rest, query, headers, body: text, truncated, answer: { status: script.status, delayMs: script.delayMs } }, deps.clock.now());
    if (script.delayMs > 0) await sleep(deps.clock, script.delayMs, c.req.raw.signal);
    c.header('Content-Type', isJson(script.body) ? 'application/json' : 'text/plain; charset=utf-8');
    return c.body(script.body, script.status as 200);
  };
  app.all('/_sink/:name', receive);
  app.all('/_sink/:name/*', receive);

  app.openapi(listSinks, (c) => c.json({ sinks: sink.names() }, 200));
  app.openapi(listRequests, (c) => {
    const after = Number(c.req.valid('query').after ?? 0);
    return c.json({ requests: sink.list(c.req.valid('param').name, after) as z.infer<typeof SinkRequestSchema>[] }, 200);
  });
  app.openapi(clearSink, (c) => {
    sink.clear(c.req.valid('param').name);
    return c.body(null, 204);
  });
  let streams = 0;
  app.get('/v1/sink/:name/events', (c) => {
    const name = c.req.param('name');
    if (!SINK_NAME.test(name)) throw new ApiError(400, 'invalid_request', 'a sink name must match [A-Za-z0-9_.-]{1,64}');
    if (streams >= deps.maxSseClients) throw new ApiError(503, 'unavailable', `too many open event streams (max ${deps.maxSseClients})`);
    if (c.req.method === 'HEAD') return c.body(null, 200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    streams++;
    c.header('Cache-Control', 'no-cache');
    return streamSSE(c, async (stream) => {
      const queue: SinkRequest[] = [];
      let wake: (() => void) | undefined;
      let closed = false;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        off();
        streams--;
      };
      // A client that stopped reading: close its connection (ending the write it never reads) and free its slot.
      const drop = () => {
        closed = true;
        release();
        deps.log.warn('sink stream dropped: the client stopped reading', { sink: name, buffered: MAX_SINK_STREAM_BUFFER });
        (c.env as { outgoing?: { destroy(): void } } | undefined)?.outgoing?.destroy();
        stream.abort();
        wake?.();
      };
      const off = sink.on((r) => {
        if (r.sink !== name || closed) return;
        if (queue.length >= MAX_SINK_STREAM_BUFFER) return drop();
        queue.push(r);
        wake?.();
      });
      stream.onAbort(() => {
        closed = true;
        wake?.();
      });
      try {
        await stream.writeSSE({ event: 'ready', data: '{}' });
        while (!closed) {
          if (queue.length === 0) {
            await new Promise<void>((r) => {
              wake = r;
              setTimeout(r, 15_000).unref?.();
            });
            wake = undefined;
            if (queue.length === 0 && !closed) await stream.write(': heartbeat\n\n');
            continue;
          }
          const r = queue.shift()!;
          await stream.writeSSE({ event: 'sink', data: JSON.stringify({ id: r.id, method: r.method }) });
        }
      } finally {
        release();
      }
    });
  });

  app.openapi(getClock, (c) => c.json({ now: new Date(deps.clock.now()).toISOString(), virtual: dev.clock !== undefined }, 200));
  app.openapi(advance, async (c) => {
    if (!dev.clock) throw new ApiError(409, 'conflict', 'this server runs on the system clock; start it with --dev --clock virtual to move time');
    const body = c.req.valid('json');
    const to = 'to' in body ? Date.parse(body.to) : undefined;
    if (to !== undefined && to < dev.clock.now()) throw new ApiError(400, 'invalid_request', `the clock cannot move back: it is ${new Date(dev.clock.now()).toISOString()}`);
    const now = to !== undefined ? await dev.clock.advanceTo(to) : await dev.clock.advance(Math.round(('seconds' in body ? body.seconds : 0) * 1000));
    return c.json({ now: new Date(now).toISOString(), virtual: true }, 200);
  });
}
