// Messages, the dead-letter queue and logs under `/v2` (api.md §14). A message is a QStash task;
// the DLQ is its failed QStash tasks (`dlqId` = task id); a DLQ retry is the task's `/v1` retry;
// logs are derived from each task's attempts. Each change is announced on the event stream.
import type { Context, Hono } from 'hono';
import type { Task } from '../../shared/types.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, notFound } from './errors.js';
import { isEmpty, readFilter, scan, scanAll, type MessageFilter } from './scan.js';
import { isQstash, toDlqMessage, toLogs, toMessage, type LogState } from './views.js';

/** Ids the store can look up: printable ASCII (a NUL or control character is no id at all, and PostgreSQL refuses NULs). */
export const ID = /^[\x21-\x7e]{1,64}$/;

const query = (c: Context) => new URL(c.req.url).searchParams;

function countOf(q: URLSearchParams, fallback: number, max: number): number {
  const v = q.get('count');
  if (v === null || v === '') return fallback;
  if (!/^\d{1,6}$/.test(v) || Number(v) < 1) throw badRequest('count must be a positive integer');
  return Math.min(Number(v), max);
}

function cursorOf(q: URLSearchParams): string | undefined {
  const v = q.get('cursor');
  if (v === null || v === '') return undefined;
  if (v.length > 64) throw badRequest('cursor is not valid; use the cursor of a previous answer');
  return v;
}

const LOG_STATES = new Set<LogState>(['CREATED', 'ACTIVE', 'DELIVERED', 'ERROR', 'RETRY', 'FAILED', 'CANCELED', 'IN_PROGRESS']);

export function registerMessageRoutes(v2: Hono, deps: ApiDeps): void {
  const { store, clock } = deps;

  const message = async (id: string) => {
    const t = ID.test(id) ? await store.getTask(id) : undefined;
    if (!isQstash(t)) throw notFound('message');
    return t;
  };

  /** Cancels the given pending or running tasks; returns how many were cancelled. */
  async function cancel(tasks: Task[]): Promise<number> {
    const now = clock.now();
    const r = await store.cancelMany({ ids: tasks.map((t) => t.id) }, now);
    return r.count;
  }

  v2.get('/messages/:id', async (c) => c.json(toMessage(await message(c.req.param('id'))), 200));

  v2.delete('/messages/:id', async (c) => {
    const t = await message(c.req.param('id'));
    const n = t.status === 'pending' || t.status === 'running' ? await cancel([t]) : 0;
    return c.json({ cancelled: n }, 200);
  });

  // Bulk cancel: by messageIds, by filter, or (no filter) every pending or running message.
  v2.delete('/messages', async (c) => {
    const f = readFilter(query(c), 'messageIds');
    let cancelled = 0;
    await scanAll(store, ['pending', 'running'], f, async (tasks) => {
      cancelled += await cancel(tasks);
    });
    return c.json({ cancelled }, 200);
  });

  const dlqEntry = async (id: string) => {
    const t = ID.test(id) ? await store.getTask(id) : undefined;
    if (!isQstash(t) || t.status !== 'failed') throw notFound('dlq message');
    return t;
  };

  v2.get('/dlq', async (c) => {
    const q = query(c);
    const page = await scan(store, 'failed', readFilter(q, 'dlqIds'), countOf(q, 100, 500), cursorOf(q));
    const out: { messages: unknown[]; cursor?: string } = { messages: page.tasks.filter(isQstash).map(toDlqMessage) };
    if (page.cursor) out.cursor = page.cursor;
    return c.json(out, 200);
  });

  v2.get('/dlq/:id', async (c) => c.json(toDlqMessage(await dlqEntry(c.req.param('id'))), 200));

  v2.delete('/dlq/:id', async (c) => {
    const t = await dlqEntry(c.req.param('id'));
    const r = await store.deleteTask(t.id, clock.now());
    if (!r.ok) throw notFound('dlq message');
    return c.json({ deleted: 1 }, 200);
  });

  /** Up to `count` DLQ entries matching the request (all of them when given by dlqIds), for bulk delete and retry. */
  async function dlqBatch(c: Context): Promise<{ tasks: Task[]; cursor: string | null; filter: MessageFilter }> {
    const q = query(c);
    const filter = readFilter(q, 'dlqIds');
    const count = filter.ids ? filter.ids.length : countOf(q, 100, 1000);
    const page = await scan(store, 'failed', filter, count, cursorOf(q));
    return { ...page, filter };
  }

  v2.delete('/dlq', async (c) => {
    const { tasks, cursor } = await dlqBatch(c);
    let deleted = 0;
    const now = clock.now();
    for (const t of tasks) if ((await store.deleteTask(t.id, now)).ok) deleted++;
    return c.json(cursor ? { deleted, cursor } : { deleted }, 200);
  });

  async function retry(tasks: Task[]): Promise<{ messageId: string }[]> {
    const now = clock.now();
    const out: { messageId: string }[] = [];
    for (const t of tasks) {
      const r = await store.retryTask(t.id, now);
      if (!r.ok) continue;
      out.push({ messageId: r.task.id });
    }
    if (out.length > 0) deps.wake();
    return out;
  }

  v2.post('/dlq/retry', async (c) => {
    const { tasks, cursor } = await dlqBatch(c);
    const responses = await retry(tasks);
    return c.json(cursor ? { cursor, responses } : { responses }, 200);
  });

  v2.post('/dlq/retry/:id', async (c) => {
    const [r] = await retry([await dlqEntry(c.req.param('id'))]);
    if (!r) throw notFound('dlq message');
    return c.json(r, 200);
  });

  const logs = async (c: Context) => {
    const q = query(c);
    const f = readFilter(q, 'messageIds');
    const state = q.get('state');
    if (state !== null && state !== '' && !LOG_STATES.has(state as LogState)) throw badRequest(`state must be one of ${[...LOG_STATES].join(', ')}`);
    const page = await scan(store, undefined, isEmpty(f) ? {} : f, countOf(q, 100, 1000), cursorOf(q));
    const out: Record<string, unknown>[] = [];
    for (const t of page.tasks) {
      if (!isQstash(t)) continue;
      const attempts = (await store.listAttempts(t.id)) ?? [];
      for (const e of toLogs(t, attempts)) if (!state || e.state === state) out.push(e);
    }
    return c.json(page.cursor ? { cursor: page.cursor, events: out } : { events: out }, 200);
  };
  v2.get('/events', logs);
  v2.get('/logs', logs);
}
