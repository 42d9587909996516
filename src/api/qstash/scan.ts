// Finds QStash tasks for the `/v2` lists and bulk actions: the SDK's filters (url, urlGroup,
// queueName, label, scheduleId, flowControlKey, dates …, each allowing several values) read
// from the query string, applied over the store's pages of tasks, newest first.
import type { Task, TaskStatus } from '../../shared/types.js';
import { InvalidCursorError, type Store } from '../../store/store.js';
import { badRequest } from './errors.js';
import { isQstash, queueNameOf } from './views.js';

export interface MessageFilter {
  ids?: string[];
  url?: string[];
  topicName?: string[];
  scheduleId?: string[];
  queueName?: string[];
  label?: string[];
  flowControlKey?: string[];
  callerIp?: string[];
  responseStatus?: number[];
  host?: string[];
  path?: string[];
  fromDate?: number;
  toDate?: number;
}

const LIST_KEYS = ['url', 'topicName', 'scheduleId', 'queueName', 'label', 'flowControlKey', 'callerIp', 'host', 'path'] as const;

/** The filter in a request's query string; `idKey` names the id list (`messageIds` or `dlqIds`). */
export function readFilter(query: URLSearchParams, idKey: 'messageIds' | 'dlqIds' | 'messageId'): MessageFilter {
  for (const [k, v] of query) {
    if (/[\x00-\x1f\x7f]/.test(v) || v.length > 4096) throw badRequest(`${k.slice(0, 40)}: control characters and values over 4096 characters are not allowed`);
  }
  const f: MessageFilter = {};
  const ids = [...query.getAll(idKey), ...(idKey === 'messageIds' ? query.getAll('messageId') : [])].filter(Boolean);
  if (ids.length > 0) f.ids = ids;
  for (const k of LIST_KEYS) {
    const v = query.getAll(k === 'topicName' ? 'topicName' : k).concat(k === 'topicName' ? query.getAll('urlGroup') : []).filter(Boolean);
    if (v.length > 0) f[k] = v;
  }
  const statuses = query.getAll('responseStatus');
  if (statuses.length > 0) {
    if (statuses.some((s) => !/^\d{3}$/.test(s))) throw badRequest('responseStatus must be an HTTP status code');
    f.responseStatus = statuses.map(Number);
  }
  for (const k of ['fromDate', 'toDate'] as const) {
    const v = query.get(k);
    if (v === null || v === '') continue;
    if (!/^\d{1,15}$/.test(v)) throw badRequest(`${k} must be a unix time in milliseconds`);
    f[k] = Number(v);
  }
  return f;
}

/** True when the filter has no condition at all. */
export const isEmpty = (f: MessageFilter) => Object.keys(f).length === 0;

function matches(t: Task, f: MessageFilter): boolean {
  if (!isQstash(t)) return false;
  const q = t.qstash;
  const any = <T>(want: T[] | undefined, have: T | undefined) => !want || (have !== undefined && want.includes(have));
  if (f.ids && !f.ids.includes(t.id)) return false;
  if (!any(f.url, t.targetUrl) || !any(f.topicName, q.urlGroup ?? undefined) || !any(f.scheduleId, t.scheduleId ?? undefined)) return false;
  if (!any(f.queueName, queueNameOf(t)) || !any(f.flowControlKey, q.flowControl?.key) || !any(f.callerIp, q.callerIp ?? undefined)) return false;
  if (f.label && !t.labels.some((l) => f.label!.includes(l))) return false;
  if (!any(f.responseStatus, t.error?.status)) return false;
  if (f.host || f.path) {
    const u = new URL(t.targetUrl);
    if (!any(f.host, u.host) && !any(f.host, u.hostname)) return false;
    if (!any(f.path, u.pathname)) return false;
  }
  const created = Date.parse(t.createdAt);
  if (f.fromDate !== undefined && created < f.fromDate) return false;
  if (f.toDate !== undefined && created > f.toDate) return false;
  return true;
}

/** Most tasks one list call reads before it answers with what it found and a cursor to go on. */
const SCAN_LIMIT = 5000;

/**
 * Up to `count` QStash tasks in `status` matching `f`, newest first, from `cursor` on. Each store
 * page asks for no more tasks than are still wanted, so the next cursor always starts right after
 * the last task returned. `cursor` is null when nothing is left.
 */
export async function scan(store: Store, status: TaskStatus | undefined, f: MessageFilter, count: number, cursor?: string): Promise<{ tasks: Task[]; cursor: string | null }> {
  if (f.ids) {
    const found = await Promise.all(f.ids.slice(0, 1000).map((id) => store.getTask(id)));
    return { tasks: found.filter((t): t is Task => !!t && (status === undefined || t.status === status) && matches(t, f)).slice(0, count), cursor: null };
  }
  const out: Task[] = [];
  let scanned = 0;
  let next: string | null = cursor ?? null;
  let first = true;
  // A single queue or label is handed to the store's own (indexed) filter.
  const queue = f.queueName?.length === 1 ? f.queueName[0] : undefined;
  const label = f.label?.length === 1 ? f.label[0] : undefined;
  try {
    while (out.length < count && scanned < SCAN_LIMIT && (first || next !== null)) {
      first = false;
      const limit = Math.min(500, count - out.length);
      const page = await store.listTasks({ status, queue, label, limit, cursor: next ?? undefined });
      scanned += page.tasks.length;
      for (const t of page.tasks) if (matches(t, f)) out.push(t);
      next = page.nextCursor;
    }
  } catch (err) {
    if (err instanceof InvalidCursorError) throw badRequest('cursor is not valid; use the cursor of a previous answer');
    throw err;
  }
  return { tasks: out, cursor: next };
}

/** Every matching task of `statuses` (for bulk actions), in pages; calls `each` with each page's tasks. */
export async function scanAll(store: Store, statuses: TaskStatus[], f: MessageFilter, each: (tasks: Task[]) => Promise<void>): Promise<void> {
  for (const status of statuses) {
    if (f.ids) {
      const { tasks } = await scan(store, status, f, f.ids.length);
      if (tasks.length > 0) await each(tasks);
      continue;
    }
    let cursor: string | undefined;
    for (;;) {
      const page = await scan(store, status, f, 1000, cursor);
      if (page.tasks.length > 0) await each(page.tasks);
      if (page.cursor === null) break;
      cursor = page.cursor;
    }
  }
}
