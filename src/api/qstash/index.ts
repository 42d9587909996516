// The QStash-compatible API under `/v2` (api.md §14), so the official `@upstash/qstash` SDK works
// against AsyncQueue: its own Hono app with the same tokens as /v1 (Bearer or `?qstash_token=`),
// the --max-body limit, QStash's error shape, and the routes of the files beside this one.
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { bearer, tokenChecker } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { handleQstashError, QstashError } from './errors.js';
import { registerManageRoutes } from './manage.js';
import { registerMessageRoutes } from './messages.js';
import { registerPublishRoutes } from './publish.js';
import { registerScheduleRoutes } from './schedules.js';

/** The `/v2` app; mount it with `app.route('/v2', createQstashApp(deps))`. */
export function createQstashApp(deps: ApiDeps, authenticate?: (c: Parameters<MiddlewareHandler>[0]) => boolean | Promise<boolean>): Hono {
  const v2 = new Hono();
  const checkToken = tokenChecker(deps.tokens);

  v2.use('*', async (c, next) => {
    if (deps.tokens.length === 0) return next();
    const given = bearer(c.req.header('authorization')) ?? new URL(c.req.url).searchParams.get('qstash_token') ?? undefined;
    if (checkToken(given) || (await authenticate?.(c))) return next();
    c.header('WWW-Authenticate', 'Bearer');
    throw new QstashError(401, 'Unauthorized: missing or invalid token (Authorization: Bearer <token> or ?qstash_token=)');
  });

  // --max-body, as on /v1: the Content-Length alone when given, else counted while the body streams.
  const tooLarge = () => new QstashError(413, `request body is larger than ${deps.maxBody} bytes (--max-body)`);
  const streamingLimit = bodyLimit({
    maxSize: deps.maxBody,
    onError: () => {
      throw tooLarge();
    },
  });
  v2.use('*', async (c, next) => {
    const length = c.req.header('content-length');
    if (length !== undefined) {
      if (!/^\d+$/.test(length) || Number(length) > deps.maxBody) throw tooLarge();
      return next();
    }
    if (c.req.header('transfer-encoding') === undefined) return next();
    return streamingLimit(c, next);
  });

  registerPublishRoutes(v2, deps);
  registerMessageRoutes(v2, deps);
  registerManageRoutes(v2, deps);
  registerScheduleRoutes(v2, deps);

  v2.all('*', (c) => {
    throw new QstashError(404, `no route ${c.req.method} ${c.req.path} in the QStash-compatible API`);
  });
  v2.onError((err, c) => handleQstashError(err, c, deps.log));
  return v2;
}
