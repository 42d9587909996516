// Schedule routes (issue #9, docs/schedules.md): upsert, list, get, update, delete and trigger.
// Fire times are computed in src/schedules; the runner is told of every change through
// deps.schedulesChanged so its one timer re-arms.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { ScheduleSpecError } from '../../schedules/fire-times.js';
import { firingTask, newScheduleId, SCHEDULE_ID, toScheduleWrite } from '../../schedules/spec.js';
import type { Schedule, ScheduleInput, ScheduleUpdate } from '../../shared/types.js';
import type { ApiDeps } from '../deps.js';
import { deeperThan } from '../depth.js';
import { ApiError, notFound } from '../errors.js';
import { maskHeaders } from '../../shared/mask.js';
import { presentTask } from '../present.js';
import { CreateTaskSchema, ErrorBodySchema, IdParam, json, TaskSchema } from '../schemas.js';

const errors = {
  400: json(ErrorBodySchema, 'invalid_request'), 401: json(ErrorBodySchema, 'unauthorized'),
  415: json(ErrorBodySchema, 'body is not JSON'), 503: json(ErrorBodySchema, 'unavailable'),
};
const missing = { 404: json(ErrorBodySchema, 'not_found') };

const CatchUp = z.enum(['none', 'latest', 'all']).openapi({ description: 'missed fire times: none, the latest once (default), or all up to catchUpMax' });
const fields = {
  cron: z.string().min(1).max(256).openapi({ example: '0 3 * * *', description: '5 fields, or 6 with seconds first; MON-FRI, JAN, @daily' }),
  timezone: z.string().min(1).max(64).optional().openapi({ example: 'Europe/Berlin', description: 'IANA zone (default UTC)' }),
  paused: z.boolean().optional(),
  catchUp: CatchUp.optional(),
  catchUpMax: z.number().int().min(1).max(1000).optional().openapi({ description: 'most missed fire times catchUp "all" fires (default 10)' }),
};
const ScheduleInputSchema = z
  .strictObject({ id: z.string().regex(SCHEDULE_ID, 'must match [A-Za-z0-9_.-]{1,64}').optional(), ...fields, task: CreateTaskSchema })
  .openapi('ScheduleInput');
const ScheduleUpdateSchema = z
  .strictObject({ ...fields, cron: fields.cron.optional(), task: CreateTaskSchema.optional() })
  .openapi('ScheduleUpdate');
const ScheduleSchema = z
  .object({
    id: z.string(), cron: z.string(), timezone: z.string(), task: CreateTaskSchema, paused: z.boolean(),
    catchUp: CatchUp, catchUpMax: z.number().int(), lastFireAt: z.string().nullable(), nextFireAt: z.string().nullable(),
    createdAt: z.string(), updatedAt: z.string(),
  })
  .openapi('Schedule');

const tags = ['schedules'];
const upsert = createRoute({
  method: 'post', path: '/v1/schedules', tags, summary: 'Create a schedule, or replace the one with the same id',
  request: { body: { required: true, ...json(ScheduleInputSchema, 'the schedule') } },
  responses: { 201: json(ScheduleSchema, 'created'), 200: json(ScheduleSchema, 'replaced (same id)'), ...errors },
});
const list = createRoute({
  method: 'get', path: '/v1/schedules', tags, summary: 'Every schedule, by id',
  responses: { 200: json(z.object({ schedules: z.array(ScheduleSchema) }), 'the schedules'), ...errors },
});
const get = createRoute({
  method: 'get', path: '/v1/schedules/{id}', tags, summary: 'Get a schedule', request: { params: IdParam },
  responses: { 200: json(ScheduleSchema, 'the schedule'), ...missing, ...errors },
});
const put = createRoute({
  method: 'put', path: '/v1/schedules/{id}', tags, summary: 'Change fields of a schedule (e.g. {"paused": true})',
  request: { params: IdParam, body: { required: true, ...json(ScheduleUpdateSchema, 'fields to change') } },
  responses: { 200: json(ScheduleSchema, 'the schedule'), ...missing, ...errors },
});
const del = createRoute({
  method: 'delete', path: '/v1/schedules/{id}', tags, summary: 'Delete a schedule (its tasks stay)', request: { params: IdParam },
  responses: { 204: { description: 'deleted' }, ...missing, ...errors },
});
const trigger = createRoute({
  method: 'post', path: '/v1/schedules/{id}/trigger', tags, summary: 'Run a schedule now: one task, outside its fire times',
  request: { params: IdParam }, responses: { 201: json(TaskSchema, 'the task created'), ...missing, ...errors },
});

const invalid = (path: string[], message: string) =>
  new ApiError(400, 'invalid_request', `invalid request: ${path.join('.')}: ${message}`, [{ path, message }]);

/** Checks what zod cannot (task fields that make no sense on repeat, depth, cron, zone) and applies defaults. */
function prepare(input: ScheduleInput & { id: string }, deps: ApiDeps, now: number) {
  const t = input.task;
  if (t.runAt !== undefined) throw invalid(['task', 'runAt'], 'a schedule fires repeatedly; use delay (seconds after each fire time) instead');
  if (t.idempotencyKey !== undefined) throw invalid(['task', 'idempotencyKey'], 'each firing gets its own key (sch:<id>:<fire time ms>); leave it out');
  if (deeperThan(t.payload, deps.maxDepth)) throw invalid(['task', 'payload'], `nests deeper than ${deps.maxDepth} levels`);
  for (const field of ['targetUrl', 'webhookUrl'] as const) {
    const why = t[field] === undefined ? undefined : deps.refusedUrl?.(t[field]);
    if (why) throw invalid(['task', field], why);
  }
  try {
    return toScheduleWrite(input, now);
  } catch (err) {
    if (err instanceof ScheduleSpecError) throw invalid([err.field], err.message);
    throw err;
  }
}

/** A schedule as the API shows it: credential-looking task headers masked (as for tasks). */
const show = (s: Schedule): Schedule => (s.task.headers ? { ...s, task: { ...s.task, headers: maskHeaders(s.task.headers) } } : s);

const asInput = (s: Schedule): ScheduleInput & { id: string } => ({
  id: s.id, cron: s.cron, timezone: s.timezone, task: s.task, paused: s.paused, catchUp: s.catchUp, catchUpMax: s.catchUpMax,
});

export function registerScheduleRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  const { store, clock } = deps;
  const changed = () => deps.schedulesChanged?.();

  app.openapi(upsert, async (c) => {
    const body = c.req.valid('json') as ScheduleInput;
    const now = clock.now();
    const r = await store.putSchedule(prepare({ ...body, id: body.id ?? newScheduleId(now) }, deps, now), now);
    changed();
    return c.json(show(r.schedule), r.created ? 201 : 200);
  });

  app.openapi(list, async (c) => c.json({ schedules: (await store.listSchedules()).map(show) }, 200));

  app.openapi(get, async (c) => {
    const s = await store.getSchedule(c.req.valid('param').id);
    if (!s) throw notFound('schedule');
    return c.json(show(s), 200);
  });

  app.openapi(put, async (c) => {
    const existing = await store.getSchedule(c.req.valid('param').id);
    if (!existing) throw notFound('schedule');
    const now = clock.now();
    const update = c.req.valid('json') as ScheduleUpdate;
    const r = await store.putSchedule(prepare({ ...asInput(existing), ...update }, deps, now), now);
    changed();
    return c.json(show(r.schedule), 200);
  });

  app.openapi(del, async (c) => {
    if (!(await store.deleteSchedule(c.req.valid('param').id))) throw notFound('schedule');
    changed();
    return c.body(null, 204);
  });

  app.openapi(trigger, async (c) => {
    const s = await store.getSchedule(c.req.valid('param').id);
    if (!s) throw notFound('schedule');
    const now = clock.now();
    const results = await store.fireSchedule({ id: s.id, tasks: [firingTask(s.id, s.task, null, now)], lastFireAt: now });
    if (!results) throw notFound('schedule');
    const task = results[0]!.task;
    deps.wake();
    return c.json(await presentTask(deps, task), 201);
  });
}
