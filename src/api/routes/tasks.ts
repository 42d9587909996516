// Routes that create and read tasks (api.md §3): create, batch, get (with ?wait=), attempts, list.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { toNewTask } from '../../shared/defaults.js';
import type { ChainedTaskInput, CreateBatchInput, CreateTaskInput, Task } from '../../shared/types.js';
import { MAX_BATCH, MAX_IMPLIED_TASKS } from '../../shared/types.js';
import { newId } from '../../shared/ids.js';
import type { ApiDeps } from '../deps.js';
import { deeperThan } from '../depth.js';
import { ApiError, notFound } from '../errors.js';
import { presentTask, presentTasks } from '../present.js';
import { AttemptSchema, BatchSchema, CreateTaskSchema, ErrorBodySchema, IdParam, json, ListQuery, PlanSchema, TaskSchema, WaitQuery } from '../schemas.js';
import type { Waiters } from '../waiters.js';
import { headerText } from '../text.js';
import { InvalidCursorError, InvalidFilterError, type CreateResult } from '../../store/store.js';

const errors = {
  400: json(ErrorBodySchema, 'invalid_request'),
  401: json(ErrorBodySchema, 'missing or wrong bearer token'),
  413: json(ErrorBodySchema, 'payload_too_large'),
  415: json(ErrorBodySchema, 'body is not JSON'),
  503: json(ErrorBodySchema, 'unavailable: the store cannot write'),
};

const create = createRoute({
  method: 'post', path: '/v1/tasks', tags: ['tasks'], summary: 'Create a task',
  request: { query: WaitQuery, headers: z.object({ 'idempotency-key': z.string().max(200).optional() }), body: { required: true, ...json(CreateTaskSchema, 'the task') } },
  responses: { 201: json(TaskSchema, 'created (durably stored)'), 200: json(TaskSchema, 'an idempotency key seen before: the existing task'), ...errors },
});
const batch = createRoute({
  method: 'post', path: '/v1/tasks/batch', tags: ['tasks'], summary: `Create up to ${MAX_BATCH} tasks, all or nothing`,
  request: { body: { required: true, ...json(BatchSchema, 'the tasks') } },
  responses: { 201: json(z.object({ batchId: z.string().openapi({ description: 'the batch (api.md §13): GET /v1/batches/{batchId}' }), tasks: z.array(TaskSchema) }), 'all created'), ...errors },
});
const get = createRoute({
  method: 'get', path: '/v1/tasks/{id}', tags: ['tasks'], summary: 'Get a task (optionally wait until it is terminal)',
  request: { params: IdParam, query: WaitQuery },
  responses: { 200: json(TaskSchema, 'the task'), 404: json(ErrorBodySchema, 'not_found'), ...errors },
});
const attempts = createRoute({
  method: 'get', path: '/v1/tasks/{id}/attempts', tags: ['tasks'], summary: "A task's attempts, oldest first",
  request: { params: IdParam },
  responses: { 200: json(z.object({ attempts: z.array(AttemptSchema) }), 'the attempts'), 404: json(ErrorBodySchema, 'not_found'), ...errors },
});
const plan = createRoute({
  method: 'get', path: '/v1/tasks/{id}/plan', tags: ['tasks'], summary: 'Why the task waits, when each remaining attempt would start if every attempt failed, and when it would give up',
  request: { params: IdParam },
  responses: { 200: json(PlanSchema, 'the plan (empty for a terminal task)'), 404: json(ErrorBodySchema, 'not_found'), ...errors },
});
const list = createRoute({
  method: 'get', path: '/v1/tasks', tags: ['tasks'], summary: 'List tasks, newest first',
  request: { query: ListQuery },
  responses: { 200: json(z.object({ tasks: z.array(TaskSchema), nextCursor: z.string().nullable() }), 'a page'), ...errors },
});

/** Checks what zod cannot (payload depth, the outbound policy) on a create body and each of its chain steps. */
export function checkCreateBody(input: ChainedTaskInput, deps: ApiDeps, path: (string | number)[]): void {
  if (deeperThan(input.payload, deps.maxDepth)) {
    const where = path.length > 0 ? `invalid request: ${[...path, 'payload'].join('.')}: nests` : 'payload nests';
    throw new ApiError(400, 'invalid_request', `${where} deeper than ${deps.maxDepth} levels`, [{ path: [...path, 'payload'], message: 'too deep' }]);
  }
  for (const field of ['targetUrl', 'webhookUrl'] as const) {
    const why = input[field] === undefined ? undefined : deps.refusedUrl?.(input[field]);
    if (why) throw new ApiError(400, 'invalid_request', `invalid request: ${[...path, field].join('.')}: ${why}`, [{ path: [...path, field], message: why }]);
  }
  if (input.then) checkCreateBody(input.then, deps, [...path, 'then']);
  if (input.onFailure) checkCreateBody(input.onFailure, deps, [...path, 'onFailure']);
}

/** Tasks a create body may imply: itself and every then/onFailure step at every level (api.md §13). */
export function impliedTasks(input: ChainedTaskInput): number {
  return 1 + (input.then ? impliedTasks(input.then) : 0) + (input.onFailure ? impliedTasks(input.onFailure) : 0);
}

function tooMany(n: number, path: (string | number)[]): ApiError {
  return new ApiError(400, 'invalid_request', `invalid request: this create implies ${n} tasks with its then/onFailure steps; at most ${MAX_IMPLIED_TASKS} per call`, [
    { path, message: `at most ${MAX_IMPLIED_TASKS} tasks per call, then/onFailure steps included` },
  ]);
}

/** Applies defaults, checks what zod cannot (depth, outbound policy, implied tasks); index prefixes paths in batches. */
function prepare(input: CreateTaskInput, deps: ApiDeps, now: number, path: (string | number)[] = [], batchId?: string) {
  checkCreateBody(input, deps, path);
  return toNewTask(input, now, { batchId });
}

/** An `Idempotency-Key` header applies when the body has no idempotencyKey of its own. */
export function applyKeyHeader(body: CreateTaskInput, rawKey: string | undefined): void {
  if (rawKey !== undefined && body.idempotencyKey === undefined) {
    // Node reads header bytes as Latin-1: the key is re-read as the UTF-8 it was sent in.
    const headerKey = headerText(rawKey);
    if (headerKey === undefined) throw new ApiError(400, 'invalid_request', 'Idempotency-Key is not valid UTF-8');
    if (headerKey.length < 1 || headerKey.length > 200) throw new ApiError(400, 'invalid_request', 'Idempotency-Key must be 1–200 characters');
    body.idempotencyKey = headerKey;
  }
}

/**
 * What `POST /v1/tasks` and `POST /v1/tasks/batch` do once the body is valid: defaults, the
 * checks zod cannot make, one store write, a wake. Shared by the Hono routes and the raw
 * create path (fast-create.ts), so both answer the same.
 */
export function taskCreator(deps: ApiDeps) {
  return {
    async one(body: CreateTaskInput, now: number): Promise<CreateResult> {
      const n = impliedTasks(body);
      if (n > MAX_IMPLIED_TASKS) throw tooMany(n, []);
      const [r] = await deps.store.createTasks([prepare(body, deps, now)]);
      if (r!.created) deps.wake();
      return r!;
    },
    /** api.md §13: every batch is a batch (`bat_…`), counted by the store as its tasks change. */
    async batch(body: CreateBatchInput, now: number): Promise<{ batchId: string; results: CreateResult[] }> {
      const n = body.tasks.reduce((sum, t) => sum + impliedTasks(t), 0);
      if (n > MAX_IMPLIED_TASKS) throw tooMany(n, ['tasks']);
      const webhookUrl = body.batch?.webhookUrl;
      const why = webhookUrl === undefined ? undefined : deps.refusedUrl?.(webhookUrl);
      if (why) throw new ApiError(400, 'invalid_request', `invalid request: batch.webhookUrl: ${why}`, [{ path: ['batch', 'webhookUrl'], message: why }]);
      const batchId = newId(now, 'bat_');
      const prepared = body.tasks.map((t, i) => prepare(t, deps, now, ['tasks', i], batchId));
      const results = await deps.store.createTasks(prepared, undefined, { id: batchId, webhookUrl: webhookUrl ?? null, labels: body.batch?.labels ?? [], createdAt: now });
      if (results.some((r) => r.created)) deps.wake();
      return { batchId, results };
    },
  };
}

export function registerTaskRoutes(app: OpenAPIHono, deps: ApiDeps, waiters: Waiters): void {
  const { store, clock } = deps;
  const creator = taskCreator(deps);

  app.openapi(create, async (c) => {
    const body = c.req.valid('json') as CreateTaskInput;
    applyKeyHeader(body, c.req.header('idempotency-key'));
    const now = clock.now();
    const wait = c.req.valid('query').wait;
    // Refuse before storing: a 503 after the create would leave a task the caller thinks failed.
    if (wait && waiters.full) throw new ApiError(503, 'unavailable', `too many open waits (max ${deps.maxWaiters}); try again or wait less`);
    const r = await creator.one(body, now);
    let task = r.task;
    if (wait) {
      // The task is stored: whatever happens to the wait, the caller gets it (a 5xx now would
      // make them create it again). A wait refused because every slot filled meanwhile answers
      // at once; any other failure is logged.
      try {
        task = (await waiters.wait(task.id, wait, c.req.raw.signal)) ?? task;
      } catch (err) {
        if (!(err instanceof ApiError)) deps.log.error('waiting for a created task failed; answering with it as created', { err, task: task.id });
      }
    }
    return c.json(await presentTask(deps, task), r.created ? 201 : 200);
  });

  app.openapi(batch, async (c) => {
    const { batchId, results } = await creator.batch(c.req.valid('json') as CreateBatchInput, clock.now());
    return c.json({ batchId, tasks: await presentTasks(deps, results.map((r) => r.task)) }, 201);
  });

  app.openapi(get, async (c) => {
    const { id } = c.req.valid('param');
    const wait = c.req.valid('query').wait;
    const task = wait ? await waiters.wait(id, wait, c.req.raw.signal) : await store.getTask(id);
    if (!task) throw notFound('task', id);
    return c.json(await presentTask(deps, task), 200);
  });

  app.openapi(plan, async (c) => {
    const p = deps.explain ? await deps.explain.plan(c.req.valid('param').id) : undefined;
    if (!p) throw notFound();
    return c.json(p, 200);
  });

  app.openapi(attempts, async (c) => {
    const id = c.req.valid('param').id;
    const list = await store.listAttempts(id);
    if (!list) throw notFound('task', id);
    return c.json({ attempts: list }, 200);
  });

  app.openapi(list, async (c) => {
    const q = c.req.valid('query');
    try {
      const page = await store.listTasks({
        status: q.status as Task['status'] | undefined, queue: q.queue, label: q.label, scheduleId: q.schedule, batchId: q.batch,
        payloadField: q.payloadField, payloadValue: q.payloadValue, limit: q.limit ?? 50, cursor: q.cursor,
      });
      return c.json({ ...page, tasks: await presentTasks(deps, page.tasks) }, 200);
    } catch (err) {
      if (err instanceof InvalidCursorError) throw new ApiError(400, 'invalid_request', 'cursor is not valid; use nextCursor from a previous page', [{ path: ['cursor'], message: 'invalid' }]);
      if (err instanceof InvalidFilterError) throw new ApiError(400, 'invalid_request', err.message, [{ path: [err.field], message: err.message }]);
      throw err;
    }
  });
}
