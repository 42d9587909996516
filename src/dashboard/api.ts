// The dashboard reads through the public API in-process (app.request), with the caller's own
// credentials, so a page can show only what its viewer may see over /v1 and every page is
// the API's own indexed query. No store access and no HTTP hop.
import type { Context } from 'hono';
import type { SinkRequest } from '../shared/dev.js';
import type { Attempt, Batch, ClusterNodeView, Delivery, ErrorBody, Queue, Stats, Task, TaskList, TaskPlan, Host } from '../shared/types.js';
import type { SinkSummary } from './pages/sink.js';

/** What createDashboard needs of the Hono app: its in-process `request`. */
export interface InProcessApp {
  request(input: string, init?: RequestInit): Response | Promise<Response>;
}

/** One answer of the API: the status and the parsed JSON body (null when empty or not JSON). */
export interface Answer<T> {
  status: number;
  ok: boolean;
  body: T | null;
  /** The error body's message when the answer is not 2xx. */
  error: string | null;
}

/** A schedule as `GET /v1/schedules` lists it (issue #9); only the fields the page shows. */
export interface Schedule {
  id: string;
  cron: string;
  timezone?: string;
  paused: boolean;
  lastFireAt?: string | null;
  nextFireAt?: string | null;
  task?: { targetUrl?: string; queue?: string; method?: string; [field: string]: unknown };
}

/** Typed reads of the routes the pages show, made with the credentials of request `c`. */
export class DashboardApi {
  constructor(
    private readonly app: InProcessApp,
    private readonly c: Context,
  ) {}

  async get<T>(path: string): Promise<Answer<T>> {
    const headers: Record<string, string> = { accept: 'application/json' };
    const cookie = this.c.req.header('cookie');
    const authorization = this.c.req.header('authorization');
    if (cookie) headers.cookie = cookie;
    if (authorization) headers.authorization = authorization;
    const res = await this.app.request(path, { headers, signal: this.c.req.raw.signal });
    const text = await res.text();
    let body: unknown = null;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      body = null;
    }
    const error = res.ok ? null : ((body as ErrorBody | null)?.error?.message ?? `HTTP ${res.status}`);
    return { status: res.status, ok: res.ok, body: res.ok ? (body as T) : null, error };
  }

  stats = () => this.get<Stats>('/v1/stats');
  queues = () => this.get<{ queues: Queue[] }>('/v1/queues');
  cluster = () => this.get<{ nodes: ClusterNodeView[] }>('/v1/cluster');
  tasks = (q: string) => this.get<TaskList>(`/v1/tasks${q}`);
  task = (id: string) => this.get<Task>(`/v1/tasks/${encodeURIComponent(id)}`);
  batch = (id: string) => this.get<Batch>(`/v1/batches/${encodeURIComponent(id)}`);
  batchDeliveries = (id: string) => this.get<{ deliveries: Delivery[] }>(`/v1/batches/${encodeURIComponent(id)}/deliveries`);
  attempts = (id: string) => this.get<{ attempts: Attempt[] }>(`/v1/tasks/${encodeURIComponent(id)}/attempts`);
  deliveries = (id: string) => this.get<{ deliveries: Delivery[] }>(`/v1/tasks/${encodeURIComponent(id)}/deliveries`);
  plan = (id: string) => this.get<TaskPlan>(`/v1/tasks/${encodeURIComponent(id)}/plan`);
  schedules = () => this.get<{ schedules: Schedule[] }>('/v1/schedules');
  hosts = () => this.get<{ hosts: Host[] }>('/v1/hosts');
  sinks = () => this.get<{ sinks: SinkSummary[] }>('/v1/sink');
  sinkRequests = (name: string) => this.get<{ requests: SinkRequest[] }>(`/v1/sink/${encodeURIComponent(name)}`);
}
