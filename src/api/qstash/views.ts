// Tasks, queues and schedules as the QStash API shows them (api.md §14; the SDK's Message,
// DlqMessage, QueueResponse, Schedule and Log types): unix-ms times, header lists, base64 bodies.
import { maskHeaders } from '../../shared/mask.js';
import type { QstashMeta } from '../../shared/qstash.js';
import type { Attempt, Queue, Schedule, Task } from '../../shared/types.js';
import { FLOW_QUEUE_PREFIX } from './message.js';

type QTask = Task & { qstash: QstashMeta };

export const isQstash = (t: Task | undefined): t is QTask => !!t && t.qstash !== null && t.qstash !== undefined;

const ms = (iso: string) => Date.parse(iso);
const lists = (h: Record<string, string>) => Object.fromEntries(Object.entries(maskHeaders(h)).map(([k, v]) => [k, [v]]));

/** The queue name QStash would report: none for published messages (default queue or a flow-control queue). */
export function queueNameOf(t: Task): string | undefined {
  return t.queue === 'default' || t.queue.startsWith(FLOW_QUEUE_PREFIX) ? undefined : t.queue;
}

function body(t: QTask): { body?: string; bodyBase64?: string } {
  const p = typeof t.payload === 'string' ? t.payload : t.payload === null ? '' : JSON.stringify(t.payload);
  return t.qstash.base64 ? { bodyBase64: p } : { body: p };
}

/** The SDK's `Message`. */
export function toMessage(t: QTask): Record<string, unknown> {
  const q = t.qstash;
  const header = lists(t.headers);
  if (q.contentType) header['Content-Type'] = [q.contentType];
  const m: Record<string, unknown> = {
    messageId: t.id, url: t.targetUrl, method: t.method, header, ...body(t), maxRetries: t.retries, createdAt: ms(t.createdAt),
    notBefore: ms(t.runAt),
  };
  if (q.urlGroup) m.topicName = q.urlGroup;
  if (q.endpointName) m.endpointName = q.endpointName;
  if (q.retryDelay) m.retryDelayExpression = q.retryDelay;
  if (q.callback) m.callback = q.callback;
  if (q.failureCallback) m.failureCallback = q.failureCallback;
  const queueName = queueNameOf(t);
  if (queueName) m.queueName = queueName;
  if (t.scheduleId) m.scheduleId = t.scheduleId;
  if (q.callerIp) m.callerIp = q.callerIp;
  if (q.flowControl) {
    m.flowControlKey = q.flowControl.key;
    if (q.flowControl.parallelism !== undefined) m.parallelism = q.flowControl.parallelism;
    if (q.flowControl.rate !== undefined) m.rate = q.flowControl.rate;
    if (q.flowControl.period !== undefined) m.period = q.flowControl.period;
  }
  if (t.labels.length > 0) (m.label = t.labels[0]), (m.labels = t.labels);
  return m;
}

/** The SDK's `DlqMessage`: a failed message; its `dlqId` is the task id. */
export function toDlqMessage(t: QTask): Record<string, unknown> {
  const m = toMessage(t);
  m.dlqId = t.id;
  if (t.error?.status !== undefined) m.responseStatus = t.error.status;
  if (t.error) m.responseBody = t.error.message;
  return m;
}

/** The SDK's `QueueResponse`; `lag` is the number of pending tasks. Times from the queue's /v2 record, if any. */
export function toQueueResponse(q: Queue, times?: { createdAt: number; updatedAt: number }): Record<string, unknown> {
  return {
    name: q.name, parallelism: q.concurrency ?? 0, lag: q.counts.pending, paused: q.paused,
    createdAt: times?.createdAt ?? 0, updatedAt: times?.updatedAt ?? 0,
  };
}

/** QStash writes a zone into the expression: `CRON_TZ=Europe/Berlin 0 3 * * *`. */
export function cronText(s: Schedule): string {
  return s.timezone === 'UTC' ? s.cron : `CRON_TZ=${s.timezone} ${s.cron}`;
}

/** The SDK's `Schedule`. */
export function toSchedule(s: Schedule & { task: { qstash: QstashMeta } }): Record<string, unknown> {
  const t = s.task;
  const q = t.qstash;
  const header = lists(t.headers ?? {});
  if (q.contentType) header['Content-Type'] = [q.contentType];
  const text = typeof t.payload === 'string' ? t.payload : '';
  const out: Record<string, unknown> = {
    scheduleId: s.id, cron: cronText(s), createdAt: ms(s.createdAt), destination: t.targetUrl, method: t.method ?? 'POST', header,
    ...(q.base64 ? { bodyBase64: text } : { body: text }), retries: t.retries ?? 3, isPaused: s.paused,
  };
  if (t.delay) out.delay = t.delay;
  if (q.callback) out.callback = q.callback;
  if (q.failureCallback) out.failureCallback = q.failureCallback;
  if (q.retryDelay) out.retryDelayExpression = q.retryDelay;
  if (t.queue && t.queue !== 'default' && !t.queue.startsWith(FLOW_QUEUE_PREFIX)) out.queueName = t.queue;
  if (q.callerIp) (out.callerIp = q.callerIp), (out.callerIP = q.callerIp);
  if (q.flowControl) {
    out.flowControlKey = q.flowControl.key;
    if (q.flowControl.parallelism !== undefined) out.parallelism = q.flowControl.parallelism;
    if (q.flowControl.rate !== undefined) out.rate = q.flowControl.rate;
    if (q.flowControl.period !== undefined) out.period = q.flowControl.period;
  }
  if (t.labels && t.labels.length > 0) (out.label = t.labels[0]), (out.labels = t.labels);
  if (s.lastFireAt) out.lastScheduleTime = ms(s.lastFireAt);
  if (s.nextFireAt) out.nextScheduleTime = ms(s.nextFireAt);
  return out;
}

export type LogState = 'CREATED' | 'ACTIVE' | 'DELIVERED' | 'ERROR' | 'RETRY' | 'FAILED' | 'CANCELED' | 'IN_PROGRESS';

/**
 * The log events of one message, newest first, derived from the task and its attempts:
 * CREATED, then per attempt DELIVERED or ERROR, RETRY while a retry waits, ACTIVE while one is
 * in flight, and FAILED or CANCELED at the end.
 */
export function toLogs(t: QTask, attempts: Attempt[]): Record<string, unknown>[] {
  const base: Record<string, unknown> = { messageId: t.id, url: t.targetUrl, header: lists(t.headers), ...body(t) };
  if (t.qstash.urlGroup) base.topicName = t.qstash.urlGroup;
  if (t.qstash.endpointName) base.endpointName = t.qstash.endpointName;
  const queueName = queueNameOf(t);
  if (queueName) base.queueName = queueName;
  if (t.scheduleId) base.scheduleId = t.scheduleId;
  if (t.labels.length > 0) (base.label = t.labels[0]), (base.labels = t.labels);
  const events: Record<string, unknown>[] = [{ ...base, time: ms(t.createdAt), state: 'CREATED' }];
  for (const a of attempts) {
    const start = ms(a.startedAt);
    if (a.durationMs === null) {
      events.push({ ...base, time: start, state: 'ACTIVE' });
      continue;
    }
    const end = start + a.durationMs;
    if (a.error) events.push({ ...base, time: end, state: 'ERROR', error: a.error.message, ...(a.status !== undefined ? { responseStatus: a.status } : {}) });
    else events.push({ ...base, time: end, state: 'DELIVERED', ...(a.status !== undefined ? { responseStatus: a.status } : {}) });
  }
  const end = t.completedAt ? ms(t.completedAt) : undefined;
  if (t.status === 'failed') events.push({ ...base, time: end, state: 'FAILED', error: t.error?.message });
  else if (t.status === 'cancelled') events.push({ ...base, time: end, state: 'CANCELED' });
  else if (t.status === 'pending' && t.attempts > 0) events.push({ ...base, time: ms(t.updatedAt), state: 'RETRY', nextDeliveryTime: ms(t.runAt) });
  return events.reverse();
}
