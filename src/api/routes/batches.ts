// `GET /v1/batches/:id` (api.md §13): a batch's counts by state, read from its one row (the store
// keeps them with each member's change), optionally held until the batch is done; its batch.done
// webhook's delivery history and re-delivery, shaped as a task's (api.md §16, routes/deliveries.ts).
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { MAX_WAIT_SECONDS } from '../../shared/types.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, notFound } from '../errors.js';
import { BatchViewSchema, decimalQuery, DeliverySchema, ErrorBodySchema, IdParam, json } from '../schemas.js';
import type { Waiters } from '../waiters.js';

const get = createRoute({
  method: 'get', path: '/v1/batches/{id}', tags: ['batches'], summary: 'Get a batch: its tasks counted by state (optionally wait until it is done)',
  request: {
    params: IdParam,
    query: z.object({
      wait: decimalQuery().pipe(z.number().min(0).max(MAX_WAIT_SECONDS)).optional()
        .openapi({ description: `seconds to hold the answer until every task of the batch is terminal (≤ ${MAX_WAIT_SECONDS})` }),
    }),
  },
  responses: {
    200: json(BatchViewSchema, 'the batch'),
    400: json(ErrorBodySchema, 'invalid_request'),
    401: json(ErrorBodySchema, 'unauthorized'),
    404: json(ErrorBodySchema, 'not_found'),
    503: json(ErrorBodySchema, 'unavailable'),
  },
});

const errors = { 401: json(ErrorBodySchema, 'unauthorized'), 503: json(ErrorBodySchema, 'unavailable') };

const history = createRoute({
  method: 'get', path: '/v1/batches/{id}/deliveries', tags: ['batches', 'webhooks'], summary: "A batch's batch.done webhook delivery attempts, oldest first",
  request: { params: IdParam },
  responses: {
    200: json(z.object({ deliveries: z.array(DeliverySchema) }), 'every delivery attempt; outcome is the n of webhook-id <batch id>.<n>'),
    400: json(ErrorBodySchema, 'invalid_request: the id is empty or longer than 64 characters'),
    404: json(ErrorBodySchema, 'not_found'),
    ...errors,
  },
});
const redeliver = createRoute({
  method: 'post', path: '/v1/batches/{id}/redeliver', tags: ['batches', 'webhooks'],
  summary: "Send the batch's latest batch.done to its webhookUrl again (same webhook-id), with a fresh set of retries",
  request: { params: IdParam },
  responses: {
    202: json(BatchViewSchema, 'the delivery is due now'),
    400: json(ErrorBodySchema, 'invalid_request: the id is empty or longer than 64 characters'),
    404: json(ErrorBodySchema, 'not_found'),
    409: json(ErrorBodySchema, 'conflict: the batch is not done, or has no webhookUrl'),
    ...errors,
  },
});

export function registerBatchRoutes(app: OpenAPIHono, deps: ApiDeps, waiters: Waiters): void {
  app.openapi(get, async (c) => {
    const { id } = c.req.valid('param');
    const wait = c.req.valid('query').wait;
    const batch = wait ? await waiters.waitBatch(id, wait, c.req.raw.signal) : await deps.store.getBatch(id);
    if (!batch) throw notFound('batch', id);
    return c.json(batch, 200);
  });

  app.openapi(history, async (c) => {
    const id = c.req.valid('param').id;
    const deliveries = await deps.store.listBatchDeliveries(id);
    if (!deliveries) throw notFound('batch', id);
    return c.json({ deliveries }, 200);
  });

  app.openapi(redeliver, async (c) => {
    const id = c.req.valid('param').id;
    const r = await deps.store.redeliverBatch(id, deps.clock.now());
    if (!r.ok) {
      if (r.reason === 'not_found') throw notFound('batch', id);
      throw new ApiError(409, 'conflict', `batch ${id} has no batch.done to deliver: only a done batch with a webhookUrl can be re-delivered`);
    }
    deps.wakeWebhooks?.();
    return c.json(r.batch, 202);
  });
}
