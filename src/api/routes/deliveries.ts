// Routes of outcome webhooks (api.md §16): a task's delivery history, re-delivery of one task
// or many by filter, and the signing secret receivers verify with. Re-delivery never changes
// a task's own status, so it emits no task event; it only wakes the webhook sender.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { RedeliverFilter } from '../../shared/types.js';
import { presentTask } from '../present.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { DeliverySchema, ErrorBodySchema, IdParam, json, RedeliverFilterSchema, SigningSecretSchema, TaskSchema } from '../schemas.js';

const errors = { 401: json(ErrorBodySchema, 'unauthorized'), 503: json(ErrorBodySchema, 'unavailable') };

const history = createRoute({
  method: 'get', path: '/v1/tasks/{id}/deliveries', tags: ['webhooks'], summary: "A task's webhook delivery attempts, oldest first",
  request: { params: IdParam },
  responses: { 200: json(z.object({ deliveries: z.array(DeliverySchema) }), 'every delivery attempt'), 404: json(ErrorBodySchema, 'not_found'), ...errors },
});
const redeliver = createRoute({
  method: 'post', path: '/v1/tasks/{id}/redeliver', tags: ['webhooks'],
  summary: "Send the task's latest outcome to its webhookUrl again (same webhook-id), with a fresh webhookRetries",
  request: { params: IdParam },
  responses: {
    202: json(TaskSchema, 'the delivery is due now'),
    404: json(ErrorBodySchema, 'not_found'),
    409: json(ErrorBodySchema, 'conflict: the task is not completed or failed, or has no webhookUrl'),
    ...errors,
  },
});
const redeliverMany = createRoute({
  method: 'post', path: '/v1/tasks/redeliver', tags: ['webhooks'], summary: 'Re-deliver the outcome of every completed or failed task matching a filter',
  request: { body: { required: true, ...json(RedeliverFilterSchema, 'which tasks (at least one filter), e.g. {"webhookStatus": "failed"}') } },
  responses: { 200: json(z.object({ count: z.number().int() }), 'how many deliveries were made due'), 400: json(ErrorBodySchema, 'invalid_request'), ...errors },
});
const secret = createRoute({
  method: 'get', path: '/v1/signing-secret', tags: ['webhooks'], summary: 'The secret that signs every dispatch and webhook (Standard Webhooks)',
  responses: { 200: json(SigningSecretSchema, 'the secret and where it came from'), 404: json(ErrorBodySchema, 'not served by an app without a server'), ...errors },
});

export function registerDeliveryRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  const { store, clock } = deps;

  app.openapi(history, async (c) => {
    const id = c.req.valid('param').id;
    const deliveries = await store.listDeliveries(id);
    if (!deliveries) throw notFound('task', id);
    return c.json({ deliveries }, 200);
  });

  app.openapi(redeliver, async (c) => {
    const id = c.req.valid('param').id;
    const r = await store.redeliverTask(id, clock.now());
    if (!r.ok) {
      if (r.reason === 'not_found') throw notFound('task', id);
      throw new ApiError(409, 'conflict', `task ${id} has no outcome to deliver: only a completed or failed task with a webhookUrl can be re-delivered`);
    }
    deps.wakeWebhooks?.();
    return c.json(await presentTask(deps, r.task), 202);
  });

  app.openapi(redeliverMany, async (c) => {
    const r = await store.redeliverMany(c.req.valid('json') as RedeliverFilter, clock.now());
    if (r.count > 0) deps.wakeWebhooks?.();
    return c.json({ count: r.count }, 200);
  });

  app.openapi(secret, async (c) => {
    if (!deps.signingSecret) throw new ApiError(404, 'not_found', 'this app has no signing secret');
    c.header('Cache-Control', 'no-store');
    return c.json(deps.signingSecret, 200);
  });
}
