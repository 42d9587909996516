// Queue and stats routes (api.md §3–4): list queues with counts, change limits and pause, stats.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { QueueUpdate } from '../../shared/types.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { ErrorBodySchema, json, QueueParam, QueueSchema, QueueUpdateSchema, StatsSchema } from '../schemas.js';

const errors = { 400: json(ErrorBodySchema, 'invalid_request'), 401: json(ErrorBodySchema, 'unauthorized'), 503: json(ErrorBodySchema, 'unavailable') };

const list = createRoute({
  method: 'get', path: '/v1/queues', tags: ['queues'], summary: 'Queues with counts by state',
  responses: { 200: json(z.object({ queues: z.array(QueueSchema) }), 'the queues'), ...errors },
});
const put = createRoute({
  method: 'put', path: '/v1/queues/{name}', tags: ['queues'], summary: 'Set a queue’s concurrency, rate limit or pause (creates it if new)',
  request: { params: QueueParam, body: { required: true, ...json(QueueUpdateSchema, 'fields to change; null clears a limit') } },
  responses: { 200: json(QueueSchema, 'the queue'), ...errors },
});
const del = createRoute({
  method: 'delete', path: '/v1/queues/{name}', tags: ['queues'], summary: 'Delete a queue that has no pending or running task (its finished tasks stay)',
  request: { params: QueueParam },
  responses: { 204: { description: 'deleted' }, 404: json(ErrorBodySchema, 'not_found'), 409: json(ErrorBodySchema, 'conflict: the queue still has pending or running tasks'), ...errors },
});
const stats = createRoute({
  method: 'get', path: '/v1/stats', tags: ['stats'], summary: 'Counts by state and queue; dispatches and failures per minute over the last hour',
  responses: { 200: json(StatsSchema, 'the stats'), ...errors },
});

export function registerQueueRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  app.openapi(list, async (c) => c.json({ queues: await deps.store.listQueues() }, 200));
  app.openapi(put, async (c) => {
    const q = await deps.store.updateQueue(c.req.valid('param').name, c.req.valid('json') as QueueUpdate, deps.clock.now());
    deps.wake(); // api.md §4: takes effect at once
    return c.json(q, 200);
  });
  app.openapi(del, async (c) => {
    const name = c.req.valid('param').name;
    if (await deps.store.deleteQueue(name)) {
      deps.wake();
      return c.body(null, 204);
    }
    if (!(await deps.store.getQueue(name))) throw notFound('queue', name);
    throw new ApiError(409, 'conflict', `queue ${name} still has pending or running tasks; cancel them first (aq cancel --queue ${name})`);
  });
  app.openapi(stats, async (c) => c.json(await deps.store.stats(deps.clock.now()), 200));
}
