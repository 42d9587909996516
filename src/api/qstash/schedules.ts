// Schedules under `/v2` (api.md §14): `POST /v2/schedules/{destination}` with `Upstash-Cron`
// (an optional `CRON_TZ=<zone>` prefix) makes an ordinary schedule whose task is a QStash
// message; get, list, delete, and PATCH pause/resume as the SDK calls them.
import type { Context, Hono } from 'hono';
import { ScheduleSpecError } from '../../schedules/fire-times.js';
import { newScheduleId, SCHEDULE_ID, toScheduleWrite } from '../../schedules/spec.js';
import { QSTASH_BACKOFF, type QstashMeta } from '../../shared/qstash.js';
import type { CreateTaskInput, Schedule } from '../../shared/types.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, notFound } from './errors.js';
import { bodyPayload, checkUrl, destinationKind, flowLimits, flowQueue, messageSettings, NAME } from './message.js';
import { headerList, rawDestination } from './publish.js';
import { ensureQstashQueue, isPinned } from './queue-settings.js';
import { toSchedule } from './views.js';

type QSchedule = Schedule & { task: CreateTaskInput & { qstash: QstashMeta } };
const isQstashSchedule = (s: Schedule | undefined): s is QSchedule => !!s && !!s.task.qstash;

/** `CRON_TZ=Europe/Berlin 0 3 * * *` → the zone and the expression. */
export function splitCron(v: string): { cron: string; timezone: string } {
  const m = /^\s*CRON_TZ=(\S+)\s+(.+)$/.exec(v);
  return m ? { timezone: m[1]!, cron: m[2]!.trim() } : { timezone: 'UTC', cron: v.trim() };
}

export function registerScheduleRoutes(v2: Hono, deps: ApiDeps): void {
  const { store, clock } = deps;

  const schedule = async (c: Context) => {
    const id = c.req.param('id') ?? '';
    const s = SCHEDULE_ID.test(id) ? await store.getSchedule(id) : undefined;
    if (!isQstashSchedule(s)) throw notFound('schedule');
    return s;
  };

  v2.post('/schedules/*', async (c) => {
    const now = clock.now();
    const destination = rawDestination(c, /^\/v2\/schedules\//);
    const headers = headerList(c.req.raw.headers);
    const get = (n: string) => headers.find(([k]) => k === n)?.[1];
    const cronHeader = get('upstash-cron');
    if (!cronHeader || cronHeader.length > 300) throw badRequest('Upstash-Cron is required: a cron expression, optionally prefixed CRON_TZ=<zone>');
    const id = get('upstash-schedule-id') ?? newScheduleId(now);
    if (!SCHEDULE_ID.test(id)) throw badRequest('Upstash-Schedule-Id must match [A-Za-z0-9_.-]{1,64}');
    if (destinationKind(destination) === 'group') throw badRequest('schedules to URL groups are not supported; schedule each endpoint URL');
    const targetUrl = checkUrl(destination, 'destination', deps);
    const s = messageSettings(headers, now, deps);
    const queueName = get('upstash-queue-name');
    if (queueName !== undefined && !NAME.test(queueName)) throw badRequest('Upstash-Queue-Name must match [A-Za-z0-9_.-]{1,64}');
    const { text, base64 } = bodyPayload(Buffer.from(await c.req.arrayBuffer()));
    const meta: QstashMeta = {
      kind: 'message', sent: s.sent, contentType: s.contentType, base64, retryDelay: s.retryDelay, callback: s.callback,
      failureCallback: s.failureCallback, urlGroup: null, endpointName: null, flowControl: s.flowControl, notBefore: null, callerIp: null,
    };
    const task: CreateTaskInput = {
      targetUrl, payload: text, method: s.method, headers: s.forwarded, retries: s.retries, backoff: { ...QSTASH_BACKOFF }, labels: s.labels, qstash: meta,
    };
    if (s.timeout !== undefined) task.timeout = s.timeout;
    if (s.runAt !== undefined && s.notBefore !== null && get('upstash-delay') !== undefined) task.delay = Math.round((s.runAt - now) / 1000);
    const queue = queueName ?? (s.flowControl ? flowQueue(s.flowControl.key) : undefined);
    if (queue !== undefined) task.queue = queue;
    const { cron, timezone } = splitCron(cronHeader);
    let write;
    try {
      write = toScheduleWrite({ id, cron, timezone, task }, now);
    } catch (err) {
      if (err instanceof ScheduleSpecError) throw badRequest(`Upstash-Cron: ${err.message}`);
      throw err;
    }
    if (queueName) await ensureQstashQueue(store, queueName, now);
    if (s.flowControl && !queueName && !(await isPinned(store, s.flowControl.key))) {
      const limits = flowLimits(s.flowControl);
      if (Object.keys(limits).length > 0) await store.updateQueue(flowQueue(s.flowControl.key), limits, now);
    }
    await store.putSchedule(write, now);
    deps.schedulesChanged?.();
    return c.json({ scheduleId: id }, 200);
  });

  v2.get('/schedules', async (c) => c.json((await store.listSchedules()).filter(isQstashSchedule).map(toSchedule), 200));

  v2.get('/schedules/:id', async (c) => c.json(toSchedule(await schedule(c)), 200));

  v2.delete('/schedules/:id', async (c) => {
    const s = await schedule(c);
    await store.deleteSchedule(s.id);
    deps.schedulesChanged?.();
    return c.json({}, 200);
  });

  for (const action of ['pause', 'resume'] as const) {
    v2.patch(`/schedules/:id/${action}`, async (c) => {
      const s = await schedule(c);
      const now = clock.now();
      await store.putSchedule(toScheduleWrite({ ...s, paused: action === 'pause' }, now), now);
      deps.schedulesChanged?.();
      return c.json({}, 200);
    });
  }
}
