// Routes that change tasks on the caller's request (api.md §2–3): cancel, retry, delete,
// and the bulk forms by filter. Each change is announced on the event stream, which is also
// how a running attempt learns to abort.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { BulkFilter } from '../../shared/types.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { presentTask } from '../present.js';
import { BulkFilterSchema, ErrorBodySchema, IdParam, json, TaskSchema } from '../schemas.js';

const errors = { 401: json(ErrorBodySchema, 'unauthorized'), 404: json(ErrorBodySchema, 'not_found'), 503: json(ErrorBodySchema, 'unavailable') };

const one = (action: 'cancel' | 'retry', summary: string) =>
  createRoute({
    method: 'post', path: `/v1/tasks/{id}/${action}`, tags: ['tasks'], summary, request: { params: IdParam },
    responses: { 200: json(TaskSchema, 'the task after the change'), 409: json(ErrorBodySchema, 'conflict: not in a state this allows'), ...errors },
  });
const many = (action: 'cancel' | 'retry', summary: string) =>
  createRoute({
    method: 'post', path: `/v1/tasks/${action}`, tags: ['tasks'], summary,
    request: { body: { required: true, ...json(BulkFilterSchema, 'which tasks (at least one filter)') } },
    responses: { 200: json(z.object({ count: z.number().int() }), 'how many changed'), 400: json(ErrorBodySchema, 'invalid_request'), ...errors },
  });
const del = createRoute({
  method: 'delete', path: '/v1/tasks/{id}', tags: ['tasks'], summary: 'Delete a task (a running one is cancelled first)',
  request: { params: IdParam }, responses: { 204: { description: 'deleted' }, ...errors },
});

export function registerActionRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  const { store, clock } = deps;

  app.openapi(one('cancel', 'Cancel a pending or running task'), async (c) => {
    const now = clock.now();
    const id = c.req.valid('param').id;
    const r = await store.cancelTask(id, now);
    if (!r.ok) {
      if (r.reason === 'not_found') throw notFound('task', id);
      throw new ApiError(409, 'conflict', 'the task is already terminal; only pending or running tasks can be cancelled');
    }
    // the last member of a batch to end may make it done, with its batch.done webhook due (api.md §13)
    if (r.task.batchId !== null) deps.wakeWebhooks?.();
    return c.json(await presentTask(deps, r.task), 200);
  });

  app.openapi(one('retry', 'Make a failed or cancelled task pending again, with a fresh set of retries'), async (c) => {
    const now = clock.now();
    const id = c.req.valid('param').id;
    const r = await store.retryTask(id, now);
    if (!r.ok) {
      if (r.reason === 'not_found') throw notFound('task', id);
      throw new ApiError(409, 'conflict', 'only failed or cancelled tasks can be retried');
    }
    deps.wake();
    return c.json(await presentTask(deps, r.task), 200);
  });

  app.openapi(del, async (c) => {
    const id = c.req.valid('param').id;
    const now = clock.now();
    // A running attempt is aborted through the cancel event the store announces (api.md §3: cancelled first).
    const r = await store.deleteTask(id, now);
    if (!r.ok) throw notFound('task', id);
    deps.wakeWebhooks?.(); // a deleted member may leave its batch done (api.md §13)
    return c.body(null, 204);
  });

  app.openapi(many('cancel', 'Cancel every pending or running task matching a filter'), async (c) => {
    const now = clock.now();
    const r = await store.cancelMany(c.req.valid('json') as BulkFilter, now);
    if (r.count > 0) deps.wakeWebhooks?.();
    return c.json({ count: r.count }, 200);
  });

  app.openapi(many('retry', 'Retry every failed or cancelled task matching a filter'), async (c) => {
    const now = clock.now();
    const r = await store.retryMany(c.req.valid('json') as BulkFilter, now);
    if (r.count > 0) deps.wake();
    return c.json({ count: r.count }, 200);
  });
}
