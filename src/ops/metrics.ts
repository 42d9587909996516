// Prometheus metrics of one server, in its own prom-client Registry (never the global one, so
// two servers in one process do not clash). Counters follow the TaskEvents stream; attempt
// durations and webhook outcomes come from the scheduler's and webhook sender's hooks; queue
// gauges are read from the store at scrape time; process metrics are shared by the process's
// servers. Serving `/metrics` is left to ops/routes.ts.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { TaskEvents } from '../dispatch/events.js';
import type { HostView } from '../dispatch/hosts.js';
import type { Queue } from '../shared/types.js';
import { GIVEN_BACK, type SignalEvent } from '../store/signals.js';
import { TASK_STATUSES } from '../shared/types.js';

/** What an attempt hook reports: the queue, how long the request took, and what was decided. */
export interface AttemptReport {
  queue: string;
  /** Wall time of the attempt, in ms. */
  durationMs: number;
  /** `completed`, `pending` (a retry follows) or `failed`. */
  next: 'completed' | 'pending' | 'failed';
}

/** What a webhook delivery hook reports. */
export interface DeliveryReport {
  /** `delivered`, `pending` (a retry follows) or `failed` (retries exhausted). */
  next: 'delivered' | 'pending' | 'failed';
  /** Wall time of the delivery request, in ms. */
  durationMs: number;
}

export interface MetricsOptions {
  events: TaskEvents;
  /** Queues with counts by state (the store's listQueues), read at each scrape. */
  listQueues: () => Promise<Queue[]>;
  /** Attempts in flight now (the scheduler's). */
  inFlight: () => number;
  /** This node's target origins (api.md §12), read at each scrape; absent: no host metrics. */
  hosts?: () => HostView[];
  /** Collect the standard process_* and nodejs_* metrics (default true). */
  processMetrics?: boolean;
}

let processRegistry: Registry | undefined;

/**
 * The standard process_* and nodejs_* metrics. They describe the process, not a server, so one
 * registry collects them once (one event-loop monitor, one GC observer) for every server in it.
 */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/**
 * Origins with series of their own in /metrics, at most (api.md §12: bounded cardinality): open
 * and half-open circuits first, then the most attempts in flight, then the most recently used.
 * asyncqueue_hosts and asyncqueue_hosts_open count every tracked origin.
 */
export const MAX_HOST_SERIES = 50;

/** Attempt duration buckets, in seconds: 5 ms to 5 min. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

const OUTCOME = { completed: 'completed', pending: 'retry', failed: 'failed', delivered: 'delivered' } as const;

/** The metrics of one server. Call `close()` when the server stops. */
export class Metrics {
  /** This server's registry; `render()` serialises it. */
  readonly registry = new Registry();
  private readonly counters: Record<'created' | 'dispatched' | 'completed' | 'failed' | 'retried' | 'cancelled', Counter<'queue'>>;
  private readonly attemptSeconds: Histogram<'queue' | 'outcome'>;
  private readonly deliveries: Counter<'outcome'>;
  private readonly deliverySeconds: Histogram<'outcome'>;
  private readonly unsubscribe: () => void;
  private snapshot: Promise<Queue[]> | undefined;
  private readonly withProcess: boolean;
  /** Attempts started by queue, less the claims given back unstarted. */
  private readonly dispatched = new Map<string, number>();
  private readonly givenBack: Counter<'queue'>;

  constructor(opts: MetricsOptions) {
    const registers = [this.registry];
    const counter = (name: string, help: string) => new Counter({ name: `asyncqueue_tasks_${name}_total`, help, labelNames: ['queue'], registers });
    const dispatched = this.dispatched;
    this.counters = {
      created: counter('created', 'Tasks created (or made pending again by hand before any attempt)'),
      // Counted from this node's own tally: a claim given back before its request started
      // (api.md §12) takes its dispatch back, which a plain counter cannot do.
      dispatched: new Counter({
        name: 'asyncqueue_tasks_dispatched_total', help: 'Attempts started (tasks dispatched to their target)', labelNames: ['queue'], registers,
        collect() {
          this.reset();
          for (const [queue, n] of dispatched) if (n > 0) this.inc({ queue }, n);
        },
      }),
      completed: counter('completed', 'Tasks that completed'),
      failed: counter('failed', 'Tasks that failed (retries exhausted or a non-retryable answer)'),
      retried: counter('retried', 'Tasks made pending again after an attempt: automatic retries and manual retries'),
      cancelled: counter('cancelled', 'Tasks cancelled'),
    };
    this.givenBack = counter('given_back', 'Claims given back before their request started: the origin had an open circuit, a full limit or a Retry-After delay (api.md §12)');
    this.attemptSeconds = new Histogram({
      name: 'asyncqueue_attempt_duration_seconds', help: 'Duration of attempts, by queue and outcome (completed, retry, failed)',
      labelNames: ['queue', 'outcome'], buckets: DURATION_BUCKETS, registers,
    });
    this.deliveries = new Counter({ name: 'asyncqueue_webhook_deliveries_total', help: 'Webhook delivery requests by outcome (delivered, retry, failed)', labelNames: ['outcome'], registers });
    this.deliverySeconds = new Histogram({
      name: 'asyncqueue_webhook_delivery_duration_seconds', help: 'Duration of webhook delivery requests, by outcome',
      labelNames: ['outcome'], buckets: DURATION_BUCKETS, registers,
    });
    // Gauges read at scrape time from one listQueues() per scrape (render() takes the snapshot;
    // the registry collects every metric concurrently, so each gauge awaits the same one).
    const queues = () => (this.snapshot ??= opts.listQueues());
    new Gauge({
      name: 'asyncqueue_tasks', help: 'Tasks stored now, by queue and status', labelNames: ['queue', 'status'], registers,
      async collect() {
        this.reset();
        for (const q of await queues()) for (const s of TASK_STATUSES) this.set({ queue: q.name, status: s }, q.counts[s] ?? 0);
      },
    });
    new Gauge({
      name: 'asyncqueue_queue_depth', help: 'Pending tasks (due or scheduled for later) by queue', labelNames: ['queue'], registers,
      async collect() {
        this.reset();
        for (const q of await queues()) this.set({ queue: q.name }, q.counts.pending ?? 0);
      },
    });
    new Gauge({
      name: 'asyncqueue_queue_paused', help: '1 when the queue is paused, else 0', labelNames: ['queue'], registers,
      async collect() {
        this.reset();
        for (const q of await queues()) this.set({ queue: q.name }, q.paused ? 1 : 0);
      },
    });
    new Gauge({
      name: 'asyncqueue_queues', help: 'Queues known to the server', registers,
      async collect() {
        this.set((await queues()).length);
      },
    });
    new Gauge({
      name: 'asyncqueue_in_flight', help: 'Attempts in flight now', registers,
      collect() {
        this.set(opts.inFlight());
      },
    });
    const hostList = opts.hosts;
    if (hostList) {
      const shown = () => {
        const all = hostList();
        const rank = (h: HostView) => (h.state === 'closed' ? 0 : 1);
        return all
          .map((h, i) => ({ h, i }))
          .sort((a, b) => rank(b.h) - rank(a.h) || b.h.inFlight - a.h.inFlight || a.i - b.i)
          .slice(0, MAX_HOST_SERIES)
          .map((x) => x.h);
      };
      const perHost = (name: string, help: string, value: (h: HostView) => number) =>
        new Gauge({
          name, help, labelNames: ['origin'], registers,
          collect() {
            this.reset();
            for (const h of shown()) this.set({ origin: h.origin }, value(h));
          },
        });
      perHost('asyncqueue_host_in_flight', `Attempts and webhook deliveries in flight per origin (at most ${MAX_HOST_SERIES} origins)`, (h) => h.inFlight);
      perHost('asyncqueue_host_circuit_open', 'Per origin: 1 when its circuit is open, 0.5 half open (one probe), 0 closed', (h) => (h.state === 'open' ? 1 : h.state === 'half_open' ? 0.5 : 0));
      perHost('asyncqueue_host_limit', 'Per origin: its concurrency after 429/503 answers, -1 when it has none of its own', (h) => h.limit ?? -1);
      perHost('asyncqueue_host_consecutive_failures', 'Per origin: failures in a row (network error, timeout, 429, 502-504)', (h) => h.consecutiveFailures);
      new Gauge({
        name: 'asyncqueue_hosts', help: 'Origins tracked by this node (at most 1000, least recently used dropped)', registers,
        collect() {
          this.set(hostList().length);
        },
      });
      new Gauge({
        name: 'asyncqueue_hosts_open', help: 'Origins whose circuit is open or half open', registers,
        collect() {
          this.set(hostList().filter((h) => h.state !== 'closed').length);
        },
      });
    }
    this.withProcess = opts.processMetrics ?? true;
    // Each node counts what it committed: summed over the nodes, a change counts once.
    this.unsubscribe = opts.events.on((e, origin) => {
      if (origin === 'local') this.onEvent(e);
    });
  }

  private onEvent(e: SignalEvent): void {
    if (e[GIVEN_BACK]) {
      this.dispatched.set(e.queue, (this.dispatched.get(e.queue) ?? 0) - 1);
      this.givenBack.inc({ queue: e.queue });
      return;
    }
    if (e.status === 'running') {
      this.dispatched.set(e.queue, (this.dispatched.get(e.queue) ?? 0) + 1);
      return;
    }
    // A pending event is a create when no attempt was made yet, else a retry (api.md §2).
    const name = e.status === 'pending' ? (e.attempts === 0 ? 'created' : 'retried') : e.status;
    this.counters[name].inc({ queue: e.queue });
  }

  /** Scheduler hook: one attempt ended. */
  readonly onAttempt = (a: AttemptReport): void => {
    this.attemptSeconds.observe({ queue: a.queue, outcome: OUTCOME[a.next] }, a.durationMs / 1000);
  };

  /** Webhook sender hook: one delivery request ended. */
  readonly onDelivery = (d: DeliveryReport): void => {
    this.deliveries.inc({ outcome: OUTCOME[d.next] });
    this.deliverySeconds.observe({ outcome: OUTCOME[d.next] }, d.durationMs / 1000);
  };

  /** The Prometheus text exposition of every metric. */
  async render(): Promise<{ contentType: string; body: string }> {
    this.snapshot = undefined;
    try {
      const registry = this.withProcess ? Registry.merge([this.registry, processMetrics()]) : this.registry;
      return { contentType: this.registry.contentType, body: await registry.metrics() };
    } finally {
      this.snapshot = undefined;
    }
  }

  /** Stops listening to events and drops every metric. */
  close(): void {
    this.unsubscribe();
    this.registry.clear();
  }
}
