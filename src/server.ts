// "asyncqueue/server": createServer(config) wires the store, dispatcher, webhooks, retention
// and the HTTP API into one running server, and close() takes it down gracefully.
import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import { Cluster } from './cluster.js';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { requestId } from './api/request-id.js';
import { answerError, answerSocket, createFrontGuard } from './api/front.js';
import type { ApiDeps } from './api/deps.js';
import { systemClock, VirtualClock, type Clock } from './clock.js';
import { Sink } from './dev/sink.js';
import { settler } from './dev/settle.js';
import { resolveConfig, type Config, type ConfigInput } from './config.js';
import { createAgent } from './dispatch/deliver.js';
import { policyConnector, refusedUrl } from './dispatch/policy.js';
import { TaskEvents } from './dispatch/events.js';
import { Completions } from './dispatch/completions.js';
import { Explainer } from './dispatch/explain.js';
import { keyBlocker } from './dispatch/key-waiting.js';
import { hostBlocker } from './dispatch/host-waiting.js';
import { HostTable } from './dispatch/hosts.js';
import { Scheduler } from './dispatch/scheduler.js';
import { generateCompletionKey } from './shared/completion-token.js';
import { WebhookSender } from './dispatch/webhooks.js';
import { createLogger, type Logger } from './log.js';
import { Metrics } from './ops/metrics.js';
import type { HttpAppOptions } from './http-app.js';
import { Retention } from './retention.js';
import { ScheduleRunner } from './schedules/runner.js';
import { decodeSecret, generateSecret, secretFingerprint } from './shared/signing.js';
import { isPostgresUrl, redactUrl } from './store/postgres/url.js';
import { generateQstashSigningKey } from './shared/qstash-signing.js';
import { SqliteStore } from './store/sqlite/index.js';
import type { Store } from './store/store.js';
import { packageVersion } from './version.js';

export { resolveConfig, type Config, type ConfigInput } from './config.js';

export interface ServerOptions extends Omit<ConfigInput, 'clock'> {
  /** Logger (default: JSON lines on stdout at `logLevel`). */
  logger?: Logger;
  /** Time source (default the system clock), or `'virtual'` / `'system'` as `--clock` takes them. */
  clock?: Clock | 'system' | 'virtual';
  /** Environment for AQ_* variables (default: none; `serve` passes process.env). */
  env?: Record<string, string | undefined>;
}

export interface AsyncQueueServer {
  /** Base URL, e.g. http://127.0.0.1:8700. */
  url: string;
  port: number;
  config: Readonly<Config>;
  /** The task store (SQLite or PostgreSQL); typed as the Store interface so the public types need no driver typings. */
  store: Store;
  events: TaskEvents;
  scheduler: Scheduler;
  /** This node's membership of the cluster (api.md §9): its id, whether it leads, the nodes. */
  cluster: Cluster;
  /** The server's time source: a VirtualClock with `--dev --clock virtual` (api.md §15). */
  clock: Clock;
  /** The request sink (`--dev` only). */
  sink: Sink | undefined;
  /** Says why tasks wait and what happens next (api.md §11). */
  explainer: Explainer;
  /** The webhook sender (its `wakeAt` shows whether a timer is armed). */
  webhooks: WebhookSender;
  /** Fingerprint of the signing secret, safe to log. */
  secretFingerprint: string;
  /** The signing secret (`whsec_…`) every dispatch and webhook is signed with: what receivers verify with (api.md §16). */
  signingSecret: string;
  /** Where it came from: `config` (--signing-secret / AQ_SIGNING_SECRET) or `database` (generated on first start). */
  signingSecretSource: 'config' | 'database';
  /** Stops taking requests and attempts, lets in-flight ones finish within `graceMs` (default config.shutdownGrace). */
  close(graceMs?: number): Promise<void>;
}

const SECRET_KEY = 'signing_secret';
/** Settings key of the completion-token key (api.md §10); one per database, shared by every node. */
const COMPLETION_KEY = 'completion_key';

/**
 * Starts AsyncQueue in this process: `await createServer({ db: './aq.db', port: 0 })`.
 * Options are the `serve` flags (camelCase); defaults as documented in config.ts.
 */
export async function createServer(options: ServerOptions = {}): Promise<AsyncQueueServer> {
  const { logger, clock: clockOption, env, ...rest } = options;
  const flags: ConfigInput = typeof clockOption === 'string' ? { ...rest, clock: clockOption } : rest;
  const givenClock = typeof clockOption === 'string' ? undefined : clockOption;
  const config = resolveConfig({ flags, env });
  const log = logger ?? createLogger(config.logLevel);
  // A VirtualClock given by an embedder (e.g. starting at a fixed time) counts as --clock virtual.
  const virtual = givenClock instanceof VirtualClock ? givenClock : config.clock === 'virtual' ? new VirtualClock(givenClock?.now()) : undefined;
  const clock = virtual ?? givenClock ?? systemClock;
  const version = packageVersion();
  const userAgent = `AsyncQueue/${version}`;

  // Other nodes' queue and schedule changes (PostgreSQL NOTIFY) wake the loops they concern; bound once the loops exist.
  let changed: (kind: 'queues' | 'schedules' | 'reconnected') => void = () => undefined;
  const store = isPostgresUrl(config.db)
    ? await (await import('./store/postgres/index.js')).PostgresStore.open({
        url: config.db, nodeId: config.nodeId ?? undefined, durability: config.durability,
        // A virtual (api.md §15) or given clock is the only time: claims, due checks and async deadlines use it, not the database's.
        dbTime: clock === systemClock,
        onConnectionError: (err) => log.warn('a PostgreSQL connection failed', { err: err.message }),
        listen: true,
        onChange: (kind) => changed(kind),
        onListenError: (err) => log.warn('the listening PostgreSQL connection dropped; reconnecting', { err: err.message }),
      })
    : new SqliteStore({
        file: config.db,
        durability: config.durability,
        onFileLost: (reason) => log.error('THE DATABASE FILE IS GONE: writes are refused (503) and /healthz fails until the server is restarted', { db: config.db, reason }),
      });
  let secret = config.signingSecret ?? (await store.getSetting(SECRET_KEY));
  if (!secret) {
    // Insert-if-absent, then read: nodes starting together on one database all sign with the first one stored.
    const generated = generateSecret();
    secret = await store.initSetting(SECRET_KEY, generated);
    if (secret === generated) log.info('generated a signing secret and stored it in the database', { fingerprint: secretFingerprint(secret) });
  }
  const secretSource = config.signingSecret ? 'config' : 'database';
  const signingKey = decodeSecret(secret);
  // QStash signing keys (api.md §14): from the flags, else generated once and kept in the database.
  const qstashKey = async (given: string | null, setting: string) => {
    const stored = given ?? (await store.getSetting(setting));
    if (stored) return stored;
    // Insert-if-absent: two nodes starting at once on one database keep the same key.
    return store.initSetting(setting, generateQstashSigningKey());
  };
  const qstashKeys = {
    current: await qstashKey(config.qstashCurrentSigningKey, 'qstash_current_signing_key'),
    next: await qstashKey(config.qstashNextSigningKey, 'qstash_next_signing_key'),
  };
  const completionKey = Buffer.from(await store.initSetting(COMPLETION_KEY, generateCompletionKey()), 'base64');
  // Known once the server listens (the port may be 0); only dispatches need it, and they start after.
  let baseUrl = config.publicUrl ?? '';
  const events = new TaskEvents();
  // Task events have one origin: the store's commits (store/signals.ts).
  const unlisten = events.listen(store.signals);
  // One log line per state change (api.md §6): the dispatcher logs how attempts end, with
  // their HTTP status or error type; creations and cancels are logged here; starts at debug.
  if (log.enabled('debug') || log.enabled('info')) {
    events.on((e) => {
      if (e.status === 'running') log.debug('task running', { task: e.id, queue: e.queue, attempt: e.attempts });
      else if (e.status === 'cancelled') log.info('task cancelled', { task: e.id, queue: e.queue, attempts: e.attempts });
      else if (e.status === 'pending' && e.attempts === 0) log.info('task created', { task: e.id, queue: e.queue });
    });
  }
  let inFlight = () => 0;
  // api.md §12: one table of target and webhook origins for the scheduler and the webhook sender, in this node's memory.
  const hosts = new HostTable({
    policy: { breakerFailures: config.breakerFailures, hostConcurrency: config.hostConcurrency, globalConcurrency: config.concurrency }, log,
  });
  const metrics = new Metrics({ events, listQueues: () => store.listQueues(), inFlight: () => inFlight(), hosts: () => hosts.list() });
  const policy = { blockPrivate: config.blockPrivateTargets, allowHosts: config.allowHosts };
  const agent = createAgent({ connections: config.maxConnectionsPerOrigin, connect: policyConnector(policy) });
  const webhooks = new WebhookSender({ store, clock, log, agent, signingKey, concurrency: config.webhookConcurrency, userAgent, onDelivery: metrics.onDelivery, hosts });
  const scheduler = new Scheduler({
    store, events, clock, log, agent, signingKey, userAgent, qstashSigningKey: qstashKeys.current,
    concurrency: config.concurrency, maxResultBytes: config.maxResult, onWebhookDue: () => webhooks.wake(),
    onAttempt: metrics.onAttempt, hosts,
    completion: { key: completionKey, url: (id) => `${baseUrl}/v1/tasks/${encodeURIComponent(id)}/complete` },
  });
  const completions = new Completions({
    store, clock, log, key: completionKey, maxResultBytes: config.maxResult,
    wake: () => scheduler.wake(), onWebhookDue: () => webhooks.wake(),
  });
  inFlight = () => scheduler.inFlight;
  store.inFlight = () => scheduler.inFlight;
  const recovered = await store.recoverInterrupted(clock.now());
  if (recovered.tasks + recovered.deliveries > 0) log.warn('recovered work interrupted by a stop', recovered);
  // api.md §9: this node's heartbeat and lease; retention and schedules run on the leader only.
  const nodeId = 'nodeId' in store ? (store as { nodeId: string }).nodeId : (config.nodeId ?? `${os.hostname().replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 80)}-${randomBytes(4).toString('hex')}`);
  let onLeader = (_leads: boolean) => undefined as void;
  const cluster = new Cluster({
    store, log, id: nodeId, name: config.nodeName ?? os.hostname(), timeoutMs: config.nodeTimeout, inFlight: () => scheduler.inFlight,
    onLeadership: (leads) => onLeader(leads),
    onRescued: () => {
      scheduler.wake();
      webhooks.wake();
    },
  });
  await cluster.start();
  const retention = new Retention({ store, clock, log, retentionMs: config.retention, leads: () => cluster.leads });
  const schedules = new ScheduleRunner({ store, clock, log, wake: () => scheduler.wake(), leads: () => cluster.leads });
  onLeader = (leads) => {
    if (leads) schedules.wake();
  };
  changed = (kind) => {
    if (kind !== 'schedules') scheduler.wake();
    if (kind !== 'queues') schedules.wake();
    if (kind === 'reconnected') {
      webhooks.wake();
      events.resync();
    }
  };
  // Work another node made due (a create, a retry, a rescue) wakes this node's dispatcher too.
  const unlistenRemote = store.signals.on((evs, origin) => {
    if (origin === 'remote' && evs.some((e) => e.status === 'pending')) scheduler.wake();
  });

  const sink = config.dev ? new Sink({ secret }) : undefined;
  if (virtual) virtual.settle = settler(virtual, { loops: [scheduler.loop, webhooks.loop, schedules.loop], inFlight: () => scheduler.inFlight + webhooks.deliveriesInFlight });
  // api.md §11: flow control adds its reasons (key_concurrency, host_circuit_open) with explainer.addBlocker().
  const explainer = new Explainer({ store, clock, slots: scheduler.limits });
  explainer.addBlocker(keyBlocker(store));
  explainer.addBlocker(hostBlocker(hosts));
  const deps: ApiDeps = {
    store, events, clock, log, wake: () => scheduler.wake(), schedulesChanged: () => schedules.wake(), inFlight: () => scheduler.inFlight, tokens: config.tokens,
    maxBody: config.maxBody, maxDepth: config.maxDepth, maxWaiters: config.maxWaiters, maxSseClients: config.maxSseClients,
    corsOrigins: config.corsOrigins, version, refusedUrl: (u) => refusedUrl(u, policy),
    wakeWebhooks: () => webhooks.wake(), signingSecret: { secret, source: secretSource },
    dev: sink ? { sink, clock: virtual } : undefined,
    qstash: { keys: qstashKeys, concurrency: config.concurrency },
    completions, explain: explainer, cluster: () => cluster.nodes(), hosts,
  };
  // The HTTP API (Hono, zod, the dashboard, /metrics, /v1/doctor) is loaded at the first
  // request that needs it (http-app.ts): an idle server does not carry it.
  const httpOptions: HttpAppOptions = {
    deps,
    doctor: {
      store, version, config, inFlight, now: () => clock.now(), startedAt: clock.now(), nodes: () => cluster.nodes(),
      signingSecret: { fingerprint: secretFingerprint(secret), source: secretSource },
    },
    dashboard: { tokens: config.tokens, host: config.host, version, clock, log, dev: config.dev, store },
    metrics: () => metrics.render(),
  };
  let listener: RequestListener | undefined;
  let loading: Promise<RequestListener> | undefined;
  const loadListener = () => (loading ??= import('./http-app.js').then((m) => (listener = m.createHttpListener(httpOptions))));
  const corsOff = config.corsOrigins.length === 0;
  const route = (req: IncomingMessage, res: ServerResponse) => {
    if (listener) return void listener(req, res);
    // GET /healthz as the app answers it (routes/system.ts), without loading the app for it.
    if (corsOff && req.method === 'GET' && req.url === '/healthz') return void healthz(req, res);
    loadListener().then(
      (l) => l(req, res),
      (err: unknown) => {
        log.error('loading the HTTP API failed', { err });
        answerError(res, 500, 'internal', 'internal error');
      },
    );
  };
  const healthz = async (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    let ok = false;
    try {
      ok = await store.ping();
    } catch {
      ok = false;
    }
    const body = JSON.stringify({ ok });
    const id = requestId(req.headers['x-request-id'] as string | undefined);
    res.writeHead(ok ? 200 : 503, { 'x-request-id': id, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
    if (log.enabled('debug')) log.debug('request', { requestId: id, method: 'GET', path: '/healthz', status: ok ? 200 : 503, ms: Math.round(performance.now() - started) });
  };
  let port = 0;
  const guard = createFrontGuard({ listenHost: config.host, allowedHosts: config.allowedHosts, log, ownAuthority: () => `${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}` });
  // requireHostHeader is off so that the guard answers a missing Host in the error shape.
  const server = http.createServer(
    { maxHeaderSize: 16 * 1024, requestTimeout: 120_000, headersTimeout: 30_000, keepAliveTimeout: 65_000, requireHostHeader: false },
    (req, res) => {
      if (!guard(req, res)) route(req, res);
    },
  );
  // Requests Node rejects before the app sees them (header overflow, bad framing) still get
  // the contract's error shape (api.md §3).
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    answerSocket(socket, tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request', 'invalid_request', tooLarge ? 'request headers are too large' : 'malformed HTTP request');
  });
  // This is not a proxy: CONNECT is answered, not left hanging.
  server.on('connect', (_req, socket: Duplex) => answerSocket(socket, '405 Method Not Allowed', 'method_not_allowed', 'CONNECT is not supported: this server is not a proxy'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
  if (!config.publicUrl) baseUrl = `http://${host}:${port}`;

  scheduler.wake();
  webhooks.wake();
  retention.start();
  schedules.start();
  log.info('listening', { url, db: isPostgresUrl(config.db) ? redactUrl(config.db) : config.db, durability: config.durability, concurrency: config.concurrency, version, ...(config.dev ? { dev: true, clock: config.clock } : {}) });

  let closing: Promise<void> | undefined;
  const close = (graceMs = config.shutdownGrace) =>
    (closing ??= (async () => {
      log.info('shutting down', { graceMs, inFlight: scheduler.inFlight });
      const httpClosed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      await Promise.all([scheduler.stop(graceMs), webhooks.stop(graceMs), retention.stop(), schedules.stop()]);
      unlistenRemote();
      await cluster.stop();
      server.closeAllConnections();
      await httpClosed;
      await agent.close().catch(() => undefined);
      await store.close();
      unlisten();
      metrics.close();
      log.info('stopped');
    })());

  return { url, port, config, store, events, cluster, scheduler, webhooks, explainer, clock, sink, secretFingerprint: secretFingerprint(secret), signingSecret: secret, signingSecretSource: secretSource, close };
}
