// Target origins and their circuit breakers (api.md §12): list them, close one by hand.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { ErrorBodySchema, HostResetSchema, HostSchema, json } from '../schemas.js';

const errors = { 401: json(ErrorBodySchema, 'unauthorized'), 503: json(ErrorBodySchema, 'unavailable') };

const list = createRoute({
  method: 'get', path: '/v1/hosts', tags: ['hosts'],
  summary: 'Every origin dispatched to since the server started (this node; up to 1,000, least recently used dropped first) with its circuit and limit',
  responses: { 200: json(z.object({ hosts: z.array(HostSchema) }), 'the origins, most recently used first'), ...errors },
});
const reset = createRoute({
  method: 'post', path: '/v1/hosts/reset', tags: ['hosts'], summary: "Close an origin's circuit by hand, and lift its lowered limit and Retry-After delay",
  request: { body: { required: true, ...json(HostResetSchema, 'the origin, e.g. https://api.example.com (a URL of it is taken as its origin)') } },
  responses: {
    200: json(HostSchema, 'the origin after the reset'),
    400: json(ErrorBodySchema, 'invalid_request: not an http(s) origin'),
    404: json(ErrorBodySchema, 'not_found: this node has not dispatched to that origin (or has forgotten it)'),
    ...errors,
  },
});

export function registerHostRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  const hosts = deps.hosts;
  if (!hosts) return;
  app.openapi(list, (c) => c.json({ hosts: hosts.list() }, 200));
  app.openapi(reset, (c) => {
    const origin = new URL(c.req.valid('json').origin).origin;
    if (!hosts.reset(origin)) throw new ApiError(404, 'not_found', `origin ${origin} not found: this node has not dispatched to it since it started (GET /v1/hosts lists the origins)`);
    deps.wake();
    deps.wakeWebhooks?.();
    return c.json(hosts.list().find((h) => h.origin === origin)!, 200);
  });
}
