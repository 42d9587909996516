// The operations routes: `GET /metrics` (Prometheus text format) and `GET /v1/doctor` (the bug
// report facts), both in the OpenAPI document. Auth for them is the app's (app.ts); the metrics
// and the report themselves are built in metrics.ts and doctor.ts.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ApiDeps } from '../api/deps.js';
import { ErrorBodySchema } from '../api/schemas.js';
import { createDoctor, DoctorSchema, type DoctorReport } from './doctor.js';
import { Metrics } from './metrics.js';

/** What the server gives the app; without it, the app makes its own from ApiDeps (no hooks, no fingerprint). */
export interface OpsHandlers {
  /** The Prometheus exposition of this server's registry. */
  metrics: () => Promise<{ contentType: string; body: string }>;
  doctor: () => Promise<DoctorReport>;
}

const unauthorized = { content: { 'application/json': { schema: ErrorBodySchema } }, description: 'missing or wrong bearer token' };

const metricsRoute = createRoute({
  method: 'get', path: '/metrics', tags: ['operations'], summary: 'Prometheus metrics (text exposition format 0.0.4)',
  description: 'Counters of tasks created, dispatched, completed, failed, retried and cancelled by queue; attempt and webhook durations; queue depth, in-flight and process gauges. Needs the bearer token when the server has one.',
  responses: {
    200: { content: { 'text/plain; version=0.0.4; charset=utf-8': { schema: z.string() } }, description: 'the metrics' },
    401: unauthorized,
  },
});

const doctorRoute = createRoute({
  method: 'get', path: '/v1/doctor', tags: ['operations'], summary: 'Versions, database, durability, task counts and the signing secret’s fingerprint, for bug reports',
  responses: {
    200: { content: { 'application/json': { schema: DoctorSchema } }, description: 'the report (no secrets)' },
    401: unauthorized,
    503: { content: { 'application/json': { schema: ErrorBodySchema } }, description: 'unavailable: the store does not answer' },
  },
});

/** Registers /metrics and /v1/doctor on the app, and documents the plain-handler routes. */
export function registerOpsRoutes(app: OpenAPIHono, deps: ApiDeps, ops?: OpsHandlers): void {
  const handlers = ops ?? fallback(deps);
  documentPlainRoutes(app);
  app.openapi(metricsRoute, async (c) => {
    const { contentType, body } = await handlers.metrics();
    return c.body(body, 200, { 'Content-Type': contentType, 'Cache-Control': 'no-store' }) as never;
  });
  app.openapi(doctorRoute, async (c) => c.json(await handlers.doctor(), 200));
}

function fallback(deps: ApiDeps): OpsHandlers {
  const metrics = new Metrics({ events: deps.events, listQueues: () => deps.store.listQueues(), inFlight: deps.inFlight, processMetrics: false });
  return {
    metrics: () => metrics.render(),
    doctor: createDoctor({ store: deps.store, version: deps.version, inFlight: deps.inFlight, now: () => deps.clock.now() }),
  };
}

/**
 * /healthz and /v1/events are served by plain Hono handlers (routes/system.ts, routes/events.ts),
 * which zod-openapi does not see; their entries are added here so that /openapi.json lists every
 * route (test/ops/openapi.document.test.ts keeps the two in step).
 */
function documentPlainRoutes(app: OpenAPIHono): void {
  const ok = z.object({ ok: z.boolean() });
  app.openAPIRegistry.registerPath({
    method: 'get', path: '/healthz', tags: ['operations'], summary: 'Health: 200 {"ok": true} when the store answers (no auth)', security: [],
    responses: {
      200: { content: { 'application/json': { schema: ok } }, description: 'healthy' },
      503: { content: { 'application/json': { schema: ok } }, description: 'the store does not answer' },
    },
  });
  app.openAPIRegistry.registerPath({
    method: 'get', path: '/v1/events', tags: ['tasks'],
    summary: 'Server-Sent Events: a `ready` event, then one `task` event (TaskEvent JSON) per task state change',
    request: {
      query: z.object({
        queue: z.string().optional().openapi({ description: 'only this queue' }),
        id: z.string().optional().openapi({ description: 'only this task' }),
      }),
    },
    responses: {
      200: { content: { 'text/event-stream': { schema: z.string() } }, description: 'the stream; `: heartbeat` comments every 15 s' },
      401: unauthorized,
      503: { content: { 'application/json': { schema: ErrorBodySchema } }, description: 'too many open event streams' },
    },
  });
}
