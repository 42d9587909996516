// `GET /v1/batches/:id` (api.md §13): a batch's counts by state, read from its one row (the store
// keeps them with each member's change), optionally held until the batch is done.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { MAX_WAIT_SECONDS } from '../../shared/types.js';
import type { ApiDeps } from '../deps.js';
import { notFound } from '../errors.js';
import { BatchViewSchema, decimalQuery, ErrorBodySchema, IdParam, json } from '../schemas.js';
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

export function registerBatchRoutes(app: OpenAPIHono, deps: ApiDeps, waiters: Waiters): void {
  app.openapi(get, async (c) => {
    const { id } = c.req.valid('param');
    const wait = c.req.valid('query').wait;
    const batch = wait ? await waiters.waitBatch(id, wait, c.req.raw.signal) : await deps.store.getBatch(id);
    if (!batch) throw notFound('batch', id);
    return c.json(batch, 200);
  });
}
