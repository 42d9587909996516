// The completion routes of an async task (api.md §10): complete, fail and heartbeat. They take
// the attempt's AQ-Completion-Token (or an API token) themselves, so the global bearer check
// skips them (app.ts, SELF_AUTH); the rules live in dispatch/completions.ts.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import type { Context } from 'hono';
import { presentTask } from '../present.js';
import { bearer, tokenChecker } from '../auth.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { CompleteSchema, ErrorBodySchema, FailSchema, HeartbeatSchema, IdParam, json, TaskSchema } from '../schemas.js';
import type { CompletionAnswer, Caller } from '../../dispatch/completions.js';

/** Routes that check their own credential (a completion token or an API token). */
export const SELF_AUTH = /^\/v1\/tasks\/[^/]+\/(?:complete|fail|heartbeat)$/;

const errors = {
  400: json(ErrorBodySchema, 'invalid_request'),
  401: json(ErrorBodySchema, 'a token that belongs to no attempt of this task (or not to the body `attempt`), or none'),
  404: json(ErrorBodySchema, 'not_found'),
  409: json(ErrorBodySchema, 'conflict: the attempt is not open (it ended another way, timed out, was superseded or cancelled)'),
  503: json(ErrorBodySchema, 'unavailable'),
};
const security: Record<string, string[]>[] = [{ completionToken: [] }, { bearer: [] }];

const complete = createRoute({
  method: 'post', path: '/v1/tasks/{id}/complete', tags: ['async'], security,
  summary: 'Complete the open attempt of an async task with its result (Authorization: Bearer <AQ-Completion-Token>)',
  request: { params: IdParam, body: { required: false, ...json(CompleteSchema, '`result`: any JSON; `attempt`: optional check') } },
  responses: {
    200: json(TaskSchema, 'completed (a repeat of the call that ended the attempt changes nothing)'),
    413: json(ErrorBodySchema, 'result over --max-result; the attempt stays open'),
    ...errors,
  },
});
const fail = createRoute({
  method: 'post', path: '/v1/tasks/{id}/fail', tags: ['async'], security,
  summary: 'Fail the open attempt of an async task: retried by backoff while retries remain, unless `retry` is false',
  request: { params: IdParam, body: { required: false, ...json(FailSchema, '`message`, `retry` (default true), `attempt`') } },
  responses: { 200: json(TaskSchema, 'the task after the failure (pending again, or failed)'), ...errors },
});
const heartbeat = createRoute({
  method: 'post', path: '/v1/tasks/{id}/heartbeat', tags: ['async'], security,
  summary: 'Keep the open attempt of an async task alive: its deadline moves to now + async.heartbeat, never past async.timeout',
  request: { params: IdParam, body: { required: false, ...json(HeartbeatSchema, '`attempt`: optional check') } },
  responses: { 200: json(z.object({ deadline: z.string() }), 'the new deadline'), ...errors },
});

function unwrap<T>(a: CompletionAnswer<T>): T {
  if (a.ok) return a.value;
  if (a.status === 401) throw new ApiError(401, a.code, a.message);
  throw new ApiError(a.status, a.code, a.message);
}

export function registerCompletionRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  const completions = deps.completions;
  if (!completions) return;
  const checkToken = tokenChecker(deps.tokens);
  const callerOf = (c: Context, id: string, attempt: number | undefined): Caller => {
    const token = bearer(c.req.header('authorization'));
    // With no API tokens configured every /v1 route is open, so no bearer is needed here either.
    const apiToken = deps.tokens.length === 0 ? true : token !== undefined && checkToken(token);
    const who = completions.caller(id, token, apiToken, attempt);
    if (!who.ok) c.header('WWW-Authenticate', 'Bearer');
    return unwrap(who);
  };
  // A body is optional: without one (no Content-Type) each route sees `{}`.
  app.openapi(complete, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json') as z.infer<typeof CompleteSchema>;
    const task = unwrap(await completions.complete(id, callerOf(c, id, body.attempt), body.result));
    return c.json(await presentTask(deps, task), 200);
  });
  app.openapi(fail, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json') as z.infer<typeof FailSchema>;
    const task = unwrap(await completions.fail(id, callerOf(c, id, body.attempt), body.message, body.retry ?? true));
    return c.json(await presentTask(deps, task), 200);
  });
  app.openapi(heartbeat, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json') as z.infer<typeof HeartbeatSchema>;
    const deadline = unwrap(await completions.heartbeat(id, callerOf(c, id, body.attempt)));
    return c.json({ deadline: new Date(deadline).toISOString() }, 200);
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'completionToken', {
    type: 'http', scheme: 'bearer', description: 'the AQ-Completion-Token header of the attempt (api.md §10)',
  });
}
