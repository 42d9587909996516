// The Hono app: middleware (request id and log, CORS, auth, media type, body limit), the
// routes of api.md §3, and the error and not-found handlers that keep every answer in the
// contract's error shape.
import { OpenAPIHono } from '@hono/zod-openapi';
import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { bearer, tokenChecker } from './auth.js';
import { requestId } from './request-id.js';
import type { ApiDeps } from './deps.js';
import { ApiError, errorBody, handleError } from './errors.js';
import { utf8Body } from './text.js';
import { registerActionRoutes } from './routes/actions.js';
import { registerDeliveryRoutes } from './routes/deliveries.js';
import { registerDevRoutes } from './routes/dev.js';
import { registerCompletionRoutes, SELF_AUTH } from './routes/completion.js';
import { registerEventRoutes } from './routes/events.js';
import { registerTransferRoutes } from './routes/transfer.js';
import { registerHostRoutes } from './routes/hosts.js';
import { registerQueueRoutes } from './routes/queues.js';
import { registerClusterRoutes } from './routes/cluster.js';
import { registerScheduleRoutes } from './routes/schedules.js';
import { registerSystemRoutes } from './routes/system.js';
import { registerTaskRoutes } from './routes/tasks.js';
import { registerBatchRoutes } from './routes/batches.js';
import { Waiters } from './waiters.js';
import { createQstashApp } from './qstash/index.js';
import { registerQstashDocs } from './qstash/openapi.js';

/** Paths that need no token: health, the OpenAPI document and the dashboard's own login. */
export const OPEN_PATHS = new Set(['/healthz', '/openapi.json']);

export interface AppExtras {
  /** Extra credential check (the dashboard's session cookie); true lets the request through. */
  authenticate?: (c: Context) => boolean | Promise<boolean>;
  /**
   * More routes, registered behind the same middleware and error handling (the server adds
   * /metrics and /v1/doctor from ops/routes.ts this way, so api/ never imports ops/).
   */
  routes?: ((app: OpenAPIHono, deps: ApiDeps) => void)[];
}

/** Content types accepted as a JSON body. */
export const JSON_TYPE = /^application\/(?:[a-z0-9.+-]+\+)?json\s*(?:;|$)/i;
export { requestId };

function issueDetails(issues: { path: PropertyKey[]; message: string }[]) {
  return issues.map((i) => ({ path: i.path.map((p) => (typeof p === 'symbol' ? String(p) : p)), message: i.message }));
}

export function createApp(deps: ApiDeps, extras: AppExtras = {}) {
  const app = new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) {
        const details = issueDetails(result.error.issues);
        const first = details[0];
        const where = first && first.path.length > 0 ? first.path.join('.') + ': ' : '';
        throw new ApiError(400, 'invalid_request', `invalid request: ${where}${first?.message ?? 'invalid'}`, details);
      }
    },
  });
  const waiters = new Waiters(deps.store, deps.events, deps.maxWaiters);
  const checkToken = tokenChecker(deps.tokens);

  app.use('*', async (c, next) => {
    const id = requestId(c.req.header('x-request-id'));
    c.header('X-Request-Id', id);
    c.set('requestId' as never, id as never);
    const started = performance.now();
    await next();
    if (deps.log.enabled('debug')) {
      deps.log.debug('request', { requestId: id, method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) });
    }
  });

  if (deps.corsOrigins.length > 0) {
    app.use('*', cors({ origin: deps.corsOrigins, allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'], exposeHeaders: ['X-Request-Id'] }));
  }

  const auth: MiddlewareHandler = async (c, next) => {
    if (deps.tokens.length === 0 || OPEN_PATHS.has(c.req.path)) return next();
    // complete, fail and heartbeat take the attempt's completion token instead (api.md §10).
    if (c.req.method === 'POST' && SELF_AUTH.test(c.req.path)) return next();
    if (checkToken(bearer(c.req.header('authorization'))) || (await extras.authenticate?.(c))) return next();
    c.header('WWW-Authenticate', 'Bearer');
    throw new ApiError(401, 'unauthorized', 'missing or invalid bearer token');
  };
  app.use('/v1/*', auth);
  app.use('/metrics', auth);

  app.use('/v1/*', async (c, next) => {
    const m = c.req.method;
    if (m === 'POST' || m === 'PUT' || m === 'PATCH') {
      const length = c.req.header('content-length');
      const hasBody = (length !== undefined && length !== '0') || c.req.header('transfer-encoding') !== undefined;
      const type = c.req.header('content-type');
      if (hasBody && (!type || !JSON_TYPE.test(type))) throw new ApiError(415, 'unsupported_media_type', 'the body must be JSON (Content-Type: application/json)');
    }
    return next();
  });
  // --max-body. With a Content-Length (what clients send) the check is the header alone: Node's
  // parser never reads past the declared length. Only a chunked body is counted while it
  // streams, by Hono's bodyLimit, which re-wraps the request and so costs more.
  const tooLarge = () => new ApiError(413, 'payload_too_large', `request body is larger than ${deps.maxBody} bytes (--max-body)`);
  const streamingLimit = bodyLimit({
    maxSize: deps.maxBody,
    onError: () => {
      throw tooLarge();
    },
  });
  app.use('/v1/*', async (c, next) => {
    const length = c.req.header('content-length');
    if (length !== undefined) {
      if (!/^\d+$/.test(length) || Number(length) > deps.maxBody) throw tooLarge();
      return next();
    }
    if (c.req.header('transfer-encoding') === undefined) return next();
    return streamingLimit(c, next);
  });
  app.use('/v1/*', utf8Body);

  registerSystemRoutes(app, deps);
  for (const register of extras.routes ?? []) register(app, deps);
  registerTaskRoutes(app, deps, waiters);
  registerBatchRoutes(app, deps, waiters);
  registerActionRoutes(app, deps);
  registerDeliveryRoutes(app, deps);
  registerCompletionRoutes(app, deps);
  registerQueueRoutes(app, deps);
  registerClusterRoutes(app, deps);
  registerHostRoutes(app, deps);
  registerScheduleRoutes(app, deps);
  const sse = registerEventRoutes(app, deps);
  registerTransferRoutes(app, deps);
  if (deps.dev) registerDevRoutes(app, deps, deps.dev);
  app.route('/v2', createQstashApp(deps, extras.authenticate));
  registerQstashDocs(app);

  app.onError((err, c) => handleError(err, c, deps.log));
  app.notFound((c) => {
    const path = c.req.path;
    const methods = new Set<string>();
    for (const r of app.routes) {
      if (r.method === 'ALL' || r.path.includes('*')) continue;
      const re = new RegExp('^' + r.path.replace(/[.]/g, '\\.').replace(/:[^/]+/g, '[^/]+') + '/?$');
      if (re.test(path)) methods.add(r.method);
    }
    if (methods.size > 0) {
      c.header('Allow', [...methods].join(', '));
      return c.json(errorBody('method_not_allowed', `${c.req.method} is not allowed on ${path}; use ${[...methods].join(', ')}`), 405);
    }
    return c.json(errorBody('not_found', `no route ${c.req.method} ${path}`), 404);
  });

  return { app, waiters, sseClients: sse.clients };
}
