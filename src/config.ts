// Server configuration: every field with its unit and default, resolved once from
// flags → AQ_* variables → defaults, validated, and frozen. No import-time effects.
import { parseDuration, parseSize } from './shared/units.js';
import type { LogLevel } from './log.js';

export type Durability = 'full' | 'normal';

export interface Config {
  /** TCP port (default 8700; 0 picks a free one). */
  port: number;
  /** Interface to bind (default 127.0.0.1). */
  host: string;
  /** SQLite file (default ./asyncqueue.db), or a postgres:// / postgresql:// URL (api.md §9). */
  db: string;
  /** This node's id on PostgreSQL, recorded on the work it claims (default: host name and a random suffix). */
  nodeId: string | null;
  /** This node's name in GET /v1/cluster (default: the host name). */
  nodeName: string | null;
  /** A node whose heartbeat is older than this (ms) is dead: its running work is taken over (default 15 s; api.md §9). */
  nodeTimeout: number;
  /** Max attempts in flight across all queues (default 100). */
  concurrency: number;
  /** Accepted bearer tokens; empty = no auth (default none). `--token a,b` accepts either. */
  tokens: string[];
  /** Standard Webhooks secret `whsec_…`; generated and stored in the database when absent. */
  signingSecret: string | null;
  /** Max request body in bytes (default 1 MiB). */
  maxBody: number;
  /** Max stored result (target's response body) in bytes (default 1 MiB). */
  maxResult: number;
  /** Terminal tasks older than this are purged, in ms (default 7 days). */
  retention: number;
  /** Log level (default info). */
  logLevel: LogLevel;
  /** `full`: fsync on every commit, survives power loss (default). `normal`: survives a process crash only. */
  durability: Durability;
  /** On SIGTERM/SIGINT, how long in-flight attempts may finish, in ms (default 30 s). */
  shutdownGrace: number;
  /** Allowed CORS origins; empty = CORS off (default). */
  corsOrigins: string[];
  /** Refuse targets and webhooks resolving to private, loopback, link-local or metadata addresses (default false). */
  blockPrivateTargets: boolean;
  /** Hosts always allowed even with blockPrivateTargets (default none). */
  allowHosts: string[];
  /** Max open connections per target origin (default 128). */
  maxConnectionsPerOrigin: number;
  /** Max nesting depth of a payload (default 64). */
  maxDepth: number;
  /** Max open long-polls (`?wait=`) at once (default 1000). */
  maxWaiters: number;
  /** Max open `/v1/events` streams at once (default 100). */
  maxSseClients: number;
  /** Max webhook deliveries in flight (default 50). */
  webhookConcurrency: number;
  /** Failures in a row (network error, timeout, 429, 502–504) that open an origin's circuit; 0 = no breaker (default 20; api.md §12). */
  breakerFailures: number;
  /** Max attempts in flight per target origin, the ceiling of the adaptive limit; null = only --concurrency (default null; api.md §12). */
  hostConcurrency: number | null;
  /** Development mode: the request sink and, with `clock: 'virtual'`, the virtual clock (default false; api.md §15). */
  dev: boolean;
  /** `system` (default) or `virtual`: time moves only by POST /v1/clock/advance; needs `dev`. */
  clock: 'system' | 'virtual';
  /**
   * Host names the API answers besides loopback ones when it listens on a loopback interface
   * (DNS-rebinding guard; default none). "*.example.com" matches subdomains, "*" turns the check off.
   */
  allowedHosts: string[];
  /** QStash current signing key for `Upstash-Signature` (api.md §14); generated and stored in the database when absent. */
  qstashCurrentSigningKey: string | null;
  /** QStash next signing key (shown by GET /v2/keys); generated and stored in the database when absent. */
  qstashNextSigningKey: string | null;
  /**
   * The URL targets reach this server at, for the AQ-Completion-Url of async tasks (api.md §10),
   * without a trailing slash; null = `http://<host>:<port>` as listened on (default).
   */
  publicUrl: string | null;
}

export const DEFAULTS: Readonly<Config> = Object.freeze({
  port: 8700,
  host: '127.0.0.1',
  db: './asyncqueue.db',
  nodeId: null,
  nodeName: null,
  nodeTimeout: 15_000,
  concurrency: 100,
  tokens: [],
  signingSecret: null,
  maxBody: 1024 * 1024,
  maxResult: 1024 * 1024,
  retention: 7 * 86_400_000,
  logLevel: 'info',
  durability: 'full',
  shutdownGrace: 30_000,
  corsOrigins: [],
  blockPrivateTargets: false,
  allowHosts: [],
  maxConnectionsPerOrigin: 128,
  maxDepth: 64,
  maxWaiters: 1000,
  maxSseClients: 100,
  webhookConcurrency: 50,
  breakerFailures: 20,
  hostConcurrency: null,
  dev: false,
  clock: 'system',
  allowedHosts: [],
  qstashCurrentSigningKey: null,
  qstashNextSigningKey: null,
  publicUrl: null,
});

/** Raw values as flags or variables give them (strings), or typed values from code (sizes in bytes, durations in ms). */
export type ConfigInput = { [K in keyof Config]?: Config[K] | string } & { token?: string };

/** The flag name (kebab-case) and AQ_* variable of each field. */
export const OPTIONS: { key: keyof Config; flag: string; env: string; help: string }[] = [
  { key: 'port', flag: 'port', env: 'AQ_PORT', help: 'TCP port (0 picks a free one)' },
  { key: 'host', flag: 'host', env: 'AQ_HOST', help: 'interface to bind' },
  { key: 'db', flag: 'db', env: 'AQ_DB', help: 'SQLite database file, or a postgres:// URL shared by several nodes' },
  { key: 'nodeId', flag: 'node-id', env: 'AQ_NODE_ID', help: 'this node\'s id on PostgreSQL (default: host name and a random suffix)' },
  { key: 'nodeName', flag: 'node-name', env: 'AQ_NODE_NAME', help: 'this node\'s name in GET /v1/cluster (default: the host name)' },
  { key: 'nodeTimeout', flag: 'node-timeout', env: 'AQ_NODE_TIMEOUT', help: 'on PostgreSQL, a node silent this long is dead and its running work is retried elsewhere (seconds or e.g. 15s)' },
  { key: 'concurrency', flag: 'concurrency', env: 'AQ_CONCURRENCY', help: 'max attempts in flight across all queues' },
  { key: 'tokens', flag: 'token', env: 'AQ_TOKEN', help: 'bearer token(s) required on /v1, comma-separated for rotation' },
  { key: 'signingSecret', flag: 'signing-secret', env: 'AQ_SIGNING_SECRET', help: 'Standard Webhooks secret (whsec_…); generated and kept in the database when absent' },
  { key: 'maxBody', flag: 'max-body', env: 'AQ_MAX_BODY', help: 'max request body size' },
  { key: 'maxResult', flag: 'max-result', env: 'AQ_MAX_RESULT', help: 'max stored result size' },
  { key: 'retention', flag: 'retention', env: 'AQ_RETENTION', help: 'purge terminal tasks older than this' },
  { key: 'logLevel', flag: 'log-level', env: 'AQ_LOG_LEVEL', help: 'debug, info, warn, error or silent' },
  { key: 'durability', flag: 'durability', env: 'AQ_DURABILITY', help: 'full (fsync each commit) or normal (survives a process crash, not a power loss)' },
  { key: 'shutdownGrace', flag: 'shutdown-grace', env: 'AQ_SHUTDOWN_GRACE', help: 'time in-flight attempts get to finish on SIGTERM' },
  { key: 'corsOrigins', flag: 'cors-origin', env: 'AQ_CORS_ORIGIN', help: 'allowed CORS origins, comma-separated (off by default)' },
  { key: 'blockPrivateTargets', flag: 'block-private-targets', env: 'AQ_BLOCK_PRIVATE_TARGETS', help: 'refuse targets resolving to private, loopback or metadata addresses' },
  { key: 'allowHosts', flag: 'allow-hosts', env: 'AQ_ALLOW_HOSTS', help: 'hosts allowed despite --block-private-targets, comma-separated' },
  { key: 'maxConnectionsPerOrigin', flag: 'max-connections', env: 'AQ_MAX_CONNECTIONS', help: 'max open connections per target origin' },
  { key: 'maxDepth', flag: 'max-depth', env: 'AQ_MAX_DEPTH', help: 'max nesting depth of a payload' },
  { key: 'maxWaiters', flag: 'max-waiters', env: 'AQ_MAX_WAITERS', help: 'max open ?wait= long-polls' },
  { key: 'maxSseClients', flag: 'max-sse-clients', env: 'AQ_MAX_SSE_CLIENTS', help: 'max open /v1/events streams' },
  { key: 'webhookConcurrency', flag: 'webhook-concurrency', env: 'AQ_WEBHOOK_CONCURRENCY', help: 'max webhook deliveries in flight' },
  { key: 'breakerFailures', flag: 'breaker-failures', env: 'AQ_BREAKER_FAILURES', help: "failures in a row that open a target origin's circuit (0 = off)" },
  { key: 'hostConcurrency', flag: 'host-concurrency', env: 'AQ_HOST_CONCURRENCY', help: 'max attempts in flight per target origin (default: only --concurrency)' },
  { key: 'dev', flag: 'dev', env: 'AQ_DEV', help: 'development mode: the request sink /_sink/<name> and --clock virtual (refused on a non-loopback host without a token)' },
  { key: 'clock', flag: 'clock', env: 'AQ_CLOCK', help: 'system, or virtual (with --dev): time moves only by POST /v1/clock/advance' },
  { key: 'allowedHosts', flag: 'allowed-hosts', env: 'AQ_ALLOWED_HOSTS', help: 'Host names answered besides loopback ones when listening on loopback, comma-separated ("*" = any)' },
  { key: 'qstashCurrentSigningKey', flag: 'qstash-current-signing-key', env: 'AQ_QSTASH_CURRENT_SIGNING_KEY', help: 'QStash current signing key (Upstash-Signature on /v2 messages); generated and kept in the database when absent' },
  { key: 'qstashNextSigningKey', flag: 'qstash-next-signing-key', env: 'AQ_QSTASH_NEXT_SIGNING_KEY', help: 'QStash next signing key (shown by GET /v2/keys); generated and kept in the database when absent' },
  { key: 'publicUrl', flag: 'public-url', env: 'AQ_PUBLIC_URL', help: 'URL targets reach this server at, for the completion URL of async tasks (default http://<host>:<port>)' },
];

/** True for names and addresses that only this machine can reach. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function toInt(v: unknown, name: string, min: number, max: number): number {
  const n = typeof v === 'number' ? v : Number(String(v).trim());
  if (!Number.isInteger(n) || n < min || n > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
  return n;
}

function toBool(v: unknown, name: string): boolean {
  if (typeof v === 'boolean') return v;
  const s = String(v).trim().toLowerCase();
  if (['1', 'true', 'yes', 'on', ''].includes(s)) return true;
  if (['0', 'false', 'no', 'off'].includes(s)) return false;
  throw new ConfigError(`${name} must be true or false, got "${v}"`);
}

/**
 * Bearer tokens: visible ASCII without commas (the separator), none blank. An empty or blank
 * value is refused rather than read as "no token", which would start an open server.
 */
function toTokens(v: unknown, name: string): string[] {
  const parts = Array.isArray(v) ? v.map(String) : String(v).split(',');
  const tokens = parts.map((s) => s.trim());
  if (tokens.some((t) => t === '')) {
    throw new ConfigError(`${name} is empty or has a blank entry ("${String(v)}"); give a token (comma-separated for several), or leave it out for a server without authentication`);
  }
  for (const t of tokens) if (!/^[\x21-\x7e]+$/.test(t)) throw new ConfigError(`${name}: a token may only hold visible ASCII characters (no spaces)`);
  return tokens;
}

function toList(v: unknown): string[] {
  if (Array.isArray(v)) return v.map(String).filter(Boolean);
  return String(v).split(',').map((s) => s.trim()).filter(Boolean);
}

/** Durations: a number is milliseconds (as in Config); a string is parsed ("7d", "30s", bare = seconds). */
function duration(v: unknown): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`not a duration: ${v}`);
    return v;
  }
  return parseDuration(String(v));
}

function wrap<T>(name: string, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    throw new ConfigError(`${name}: ${(err as Error).message}`);
  }
}

/** Resolves flags over `AQ_*` variables over DEFAULTS; throws ConfigError naming the bad value. */
export function resolveConfig(opts: { flags?: ConfigInput; env?: Record<string, string | undefined> } = {}): Readonly<Config> {
  const flags: Record<string, unknown> = { ...(opts.flags ?? {}) };
  if (flags.token !== undefined && flags.tokens === undefined) flags.tokens = flags.token;
  const env = opts.env ?? {};
  const raw: Record<string, unknown> = {};
  for (const o of OPTIONS) {
    // An empty variable counts as unset, except AQ_TOKEN: set but empty is refused (toTokens).
    const fromEnv = env[o.env] !== undefined && (env[o.env] !== '' || o.key === 'tokens');
    const v = flags[o.key] !== undefined ? flags[o.key] : fromEnv ? env[o.env] : undefined;
    if (v !== undefined) raw[o.key] = v;
  }
  const c: Config = { ...DEFAULTS, tokens: [], corsOrigins: [], allowHosts: [], allowedHosts: [] };
  const flag = (k: keyof Config) => '--' + OPTIONS.find((o) => o.key === k)!.flag;
  if (raw.port !== undefined) c.port = toInt(raw.port, flag('port'), 0, 65535);
  if (raw.host !== undefined) c.host = String(raw.host);
  if (raw.db !== undefined) c.db = String(raw.db);
  if (raw.nodeId !== undefined && raw.nodeId !== null) {
    const id = String(raw.nodeId);
    if (!/^[A-Za-z0-9._:-]{1,100}$/.test(id)) throw new ConfigError(`${flag('nodeId')} must be 1–100 letters, digits or . _ : -`);
    c.nodeId = id;
  }
  if (raw.nodeName !== undefined && raw.nodeName !== null) {
    const name = String(raw.nodeName);
    if (!/^[\x20-\x7e]{1,100}$/.test(name) || name.trim() === '') throw new ConfigError(`${flag('nodeName')} must be 1–100 printable characters`);
    c.nodeName = name;
  }
  if (raw.nodeTimeout !== undefined) {
    c.nodeTimeout = wrap(flag('nodeTimeout'), () => duration(raw.nodeTimeout));
    if (c.nodeTimeout < 1000 || c.nodeTimeout > 3_600_000) throw new ConfigError(`${flag('nodeTimeout')} must be between 1s and 1h`);
  }
  if (raw.concurrency !== undefined) c.concurrency = toInt(raw.concurrency, flag('concurrency'), 1, 100_000);
  if (raw.tokens !== undefined) c.tokens = toTokens(raw.tokens, flags.tokens !== undefined ? flag('tokens') : 'AQ_TOKEN');
  if (raw.signingSecret !== undefined && raw.signingSecret !== null) {
    const s = String(raw.signingSecret);
    if (!/^whsec_[A-Za-z0-9+/=]{16,}$/.test(s)) {
      throw new ConfigError(
        `${flag('signingSecret')} must be whsec_ followed by base64 (at least 16 characters), e.g. the output of \`asyncqueue secret --new\`` +
          ` or of: node -e "console.log('whsec_' + require('crypto').randomBytes(24).toString('base64'))"`,
      );
    }
    c.signingSecret = s;
  }
  if (raw.maxBody !== undefined) c.maxBody = wrap(flag('maxBody'), () => parseSize(raw.maxBody as string));
  if (raw.maxResult !== undefined) c.maxResult = wrap(flag('maxResult'), () => parseSize(raw.maxResult as string));
  if (raw.retention !== undefined) c.retention = wrap(flag('retention'), () => duration(raw.retention));
  if (raw.logLevel !== undefined) {
    const l = String(raw.logLevel);
    if (!['debug', 'info', 'warn', 'error', 'silent'].includes(l)) throw new ConfigError(`${flag('logLevel')} must be debug, info, warn, error or silent`);
    c.logLevel = l as LogLevel;
  }
  if (raw.durability !== undefined) {
    const d = String(raw.durability);
    if (d !== 'full' && d !== 'normal') throw new ConfigError(`${flag('durability')} must be full or normal`);
    c.durability = d;
  }
  if (raw.shutdownGrace !== undefined) c.shutdownGrace = wrap(flag('shutdownGrace'), () => duration(raw.shutdownGrace));
  if (raw.corsOrigins !== undefined) c.corsOrigins = toList(raw.corsOrigins);
  if (raw.blockPrivateTargets !== undefined) c.blockPrivateTargets = toBool(raw.blockPrivateTargets, flag('blockPrivateTargets'));
  if (raw.allowHosts !== undefined) c.allowHosts = toList(raw.allowHosts).map((h) => h.toLowerCase());
  if (raw.maxConnectionsPerOrigin !== undefined) c.maxConnectionsPerOrigin = toInt(raw.maxConnectionsPerOrigin, flag('maxConnectionsPerOrigin'), 1, 10_000);
  if (raw.maxDepth !== undefined) c.maxDepth = toInt(raw.maxDepth, flag('maxDepth'), 1, 10_000);
  if (raw.maxWaiters !== undefined) c.maxWaiters = toInt(raw.maxWaiters, flag('maxWaiters'), 0, 1_000_000);
  if (raw.maxSseClients !== undefined) c.maxSseClients = toInt(raw.maxSseClients, flag('maxSseClients'), 0, 100_000);
  if (raw.allowedHosts !== undefined) c.allowedHosts = toList(raw.allowedHosts).map((h) => h.toLowerCase().replace(/\.$/, ''));
  if (raw.webhookConcurrency !== undefined) c.webhookConcurrency = toInt(raw.webhookConcurrency, flag('webhookConcurrency'), 1, 10_000);
  if (raw.breakerFailures !== undefined) c.breakerFailures = toInt(raw.breakerFailures, flag('breakerFailures'), 0, 1_000_000);
  if (raw.hostConcurrency !== undefined && raw.hostConcurrency !== null && raw.hostConcurrency !== '') {
    c.hostConcurrency = toInt(raw.hostConcurrency, flag('hostConcurrency'), 1, 100_000);
  }
  if (raw.dev !== undefined) c.dev = toBool(raw.dev, flag('dev'));
  if (raw.clock !== undefined) {
    const k = String(raw.clock);
    if (k !== 'system' && k !== 'virtual') throw new ConfigError(`${flag('clock')} must be system or virtual`);
    c.clock = k;
  }
  if (c.clock === 'virtual' && !c.dev) throw new ConfigError(`${flag('clock')} virtual needs --dev: a virtual clock is for tests, never for real work`);
  if (c.dev && c.tokens.length === 0 && !isLoopbackHost(c.host)) {
    throw new ConfigError(`--dev on ${c.host} needs a token (--token): the request sink and the virtual clock must not be open to the network`);
  }
  for (const k of ['qstashCurrentSigningKey', 'qstashNextSigningKey'] as const) {
    if (raw[k] === undefined || raw[k] === null) continue;
    const key = String(raw[k]);
    if (!/^[\x21-\x7e]{16,128}$/.test(key)) throw new ConfigError(`${flag(k)} must be 16–128 printable characters without spaces`);
    c[k] = key;
  }
  if (raw.publicUrl !== undefined && raw.publicUrl !== null) c.publicUrl = publicUrl(String(raw.publicUrl), flag('publicUrl'));
  return Object.freeze(c);
}

/** An absolute http(s) URL without credentials, query or fragment; the trailing slash removed. */
function publicUrl(v: string, name: string): string {
  let u: URL;
  try {
    u = new URL(v.trim());
  } catch {
    throw new ConfigError(`${name} must be an absolute http: or https: URL, got "${v}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(`${name} must use http: or https:, got "${v}"`);
  if (u.username || u.password || u.search || u.hash) throw new ConfigError(`${name} must not have credentials, a query or a fragment, got "${v}"`);
  return u.toString().replace(/\/+$/, '');
}
