// The page routes: /, /tasks, /tasks/:id, /schedules, /hosts. Each checks the session, reads what
// it shows through the API in-process (one indexed query per view, no counts over tasks)
// and renders it. Not signed in: a redirect to /login.
import type { Context, Hono } from 'hono';
import type { Child } from 'hono/jsx';
import { TASK_STATUSES, type TaskStatus } from '../shared/types.js';
import { DashboardApi } from './api.js';
import { query } from './format.js';
import type { DashboardContext } from './context.js';
import { Notice, Page, type Section } from './layout.js';
import { BatchPage } from './pages/batch.js';
import { Overview } from './pages/overview.js';
import { Hosts } from './pages/hosts.js';
import { Schedules } from './pages/schedules.js';
import { SinkPage } from './pages/sink.js';
import { TaskDetail } from './pages/task.js';
import { Tasks } from './pages/tasks.js';

/** Tasks per page of the list. */
export const PAGE_SIZE = 50;

type Handler = (c: Context, api: DashboardApi) => Promise<Response>;

export function registerPages(app: Hono<any, any, any>, ctx: DashboardContext): void {
  const { opts } = ctx;
  const render = (c: Context, section: Section, title: string, body: Child, opt: { status?: number; events?: string } = {}) =>
    ctx.send(
      c,
      <Page shell={ctx.shell} title={title} section={section} events={opt.events}>
        {body}
      </Page>,
      opt.status,
    );
  const failed = (c: Context, section: Section, error: string | null, status = 502) =>
    render(c, section, 'Error', <Notice kind="error">{`The API answered: ${error ?? 'unknown error'}`}</Notice>, { status });

  const guarded = (handler: Handler) => async (c: Context) => {
    if (!(await ctx.signedIn(c))) {
      const url = new URL(c.req.url);
      // A link followed from another site carries no SameSite=Strict cookie: reload once from here, which does.
      if (c.req.header('sec-fetch-site') === 'cross-site') {
        return render(c, 'login', 'Loading', <meta http-equiv="refresh" content="0" />);
      }
      return c.redirect(`/login${query({ next: url.pathname + url.search })}`, 303);
    }
    try {
      return await handler(c, new DashboardApi(app, c));
    } catch (err) {
      opts.log.error('dashboard page failed', { err, path: c.req.path });
      return render(c, 'error', 'Error', <Notice kind="error">Something went wrong rendering this page; see the server log.</Notice>, { status: 500 });
    }
  };

  app.get(
    '/',
    guarded(async (c, api) => {
      const [stats, queues, cluster] = await Promise.all([api.stats(), api.queues(), api.cluster()]);
      if (!stats.ok || !queues.ok) return failed(c, 'overview', stats.error ?? queues.error);
      return render(c, 'overview', 'Overview', <Overview stats={stats.body!} queues={queues.body!.queues} nodes={cluster.body?.nodes} />, { events: '/v1/events' });
    }),
  );

  app.get(
    '/tasks',
    guarded(async (c, api) => {
      const id = c.req.query('id')?.trim();
      if (id) return c.redirect(`/tasks/${encodeURIComponent(id)}`, 303);
      const s = c.req.query('status');
      const param = (name: string) => c.req.query(name)?.trim() || undefined;
      const filter = {
        status: TASK_STATUSES.includes(s as TaskStatus) ? (s as TaskStatus) : undefined, queue: param('queue'), label: param('label'),
        schedule: param('schedule'), batch: param('batch'), field: param('field'), value: param('value'), cursor: param('cursor'),
      };
      const search = filter.field ? { payloadField: filter.field, payloadValue: filter.value ?? '' } : {};
      const apiQuery = { status: filter.status, queue: filter.queue, label: filter.label, schedule: filter.schedule, batch: filter.batch, ...search, cursor: filter.cursor, limit: String(PAGE_SIZE) };
      const [page, queues] = await Promise.all([api.tasks(query(apiQuery)), api.queues()]);
      const queueNames = queues.body?.queues.map((q) => q.name) ?? [];
      const events = `/v1/events${query({ queue: filter.queue })}`;
      const body = <Tasks filter={filter} tasks={page.body?.tasks ?? []} nextCursor={page.body?.nextCursor ?? null} queueNames={queueNames} now={opts.clock.now()} error={page.error ?? undefined} />;
      return render(c, 'tasks', 'Tasks', body, { status: page.ok ? 200 : page.status, events });
    }),
  );

  app.get(
    '/tasks/:id',
    guarded(async (c, api) => {
      const id = c.req.param('id') ?? '';
      const [task, attempts, deliveries, plan] = await Promise.all([api.task(id), api.attempts(id), api.deliveries(id), api.plan(id)]);
      if (task.status === 404) {
        return render(c, 'tasks', 'Not found', <Notice kind="empty">{`No task ${id}: it never existed or was purged by --retention.`}</Notice>, { status: 404 });
      }
      if (!task.ok) return failed(c, 'tasks', task.error);
      const events = `/v1/events${query({ id })}`;
      return render(c, 'tasks', `Task ${id}`, <TaskDetail task={task.body!} attempts={attempts.body?.attempts ?? []} deliveries={deliveries.body?.deliveries ?? []} plan={plan.body} now={opts.clock.now()} />, { events });
    }),
  );

  app.get(
    '/batches/:id',
    guarded(async (c, api) => {
      const id = c.req.param('id') ?? '';
      const [batch, members, deliveries] = await Promise.all([api.batch(id), api.tasks(query({ batch: id, limit: String(PAGE_SIZE) })), api.batchDeliveries(id)]);
      if (batch.status === 404) {
        return render(c, 'tasks', 'Not found', <Notice kind="empty">{`No batch ${id}: it never existed, or all its tasks were purged by --retention.`}</Notice>, { status: 404 });
      }
      if (!batch.ok) return failed(c, 'tasks', batch.error);
      const body = <BatchPage batch={batch.body!} tasks={members.body?.tasks ?? []} nextCursor={members.body?.nextCursor ?? null} deliveries={deliveries.body?.deliveries ?? []} now={opts.clock.now()} />;
      return render(c, 'tasks', `Batch ${id}`, body, { events: '/v1/events' });
    }),
  );

  app.get(
    '/schedules',
    guarded(async (c, api) => {
      const r = await api.schedules();
      const now = opts.clock.now();
      const props =
        r.status === 404
          ? ({ kind: 'unsupported', now } as const)
          : r.ok && Array.isArray(r.body?.schedules)
            ? ({ kind: 'list', schedules: r.body.schedules, now } as const)
            : ({ kind: 'error', error: `The API answered: ${r.error ?? 'an unexpected body'}`, now } as const);
      return render(c, 'schedules', 'Schedules', <Schedules {...props} />);
    }),
  );

  app.get(
    '/hosts',
    guarded(async (c, api) => {
      const r = await api.hosts();
      const now = opts.clock.now();
      const props = r.ok && Array.isArray(r.body?.hosts)
        ? ({ kind: 'list', hosts: r.body.hosts, now } as const)
        : ({ kind: 'error', error: `The API answered: ${r.error ?? 'an unexpected body'}`, now } as const);
      return render(c, 'hosts', 'Hosts', <Hosts {...props} />);
    }),
  );

  const sink = guarded(async (c, api) => {
    const name = c.req.param('name');
    const [sinks, requests] = await Promise.all([api.sinks(), name === undefined ? undefined : api.sinkRequests(name)]);
    if (sinks.status === 404) return render(c, 'sink', 'Request sink', <SinkPage kind="off" />);
    if (!sinks.ok || (requests && !requests.ok)) return render(c, 'sink', 'Request sink', <SinkPage kind="error" error={`The API answered: ${sinks.error ?? requests?.error}`} />, { status: 502 });
    const origin = new URL(c.req.url).origin;
    const events = name === undefined ? undefined : `/v1/sink/${encodeURIComponent(name)}/events`;
    return render(c, 'sink', name === undefined ? 'Request sink' : `Sink ${name}`, <SinkPage kind="list" sinks={sinks.body!.sinks} name={name} requests={requests?.body?.requests ?? []} origin={origin} />, { events });
  });
  app.get('/sink', sink);
  app.get('/sink/:name', sink);
}
