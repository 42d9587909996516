// Turns a QStash publish request (destination, `Upstash-*` headers, raw body) into the tasks it
// makes (api.md §14): one for a URL, one per endpoint for a URL group. Validates everything
// before anything is stored, so a refused request creates nothing.
import { createHash } from 'node:crypto';
import { toNewTask, type NewTask } from '../../shared/defaults.js';
import { parseQstashDuration } from '../../shared/durations.js';
import { QSTASH_BACKOFF, type QstashFlowControl, type QstashMeta } from '../../shared/qstash.js';
import { parseRetryDelay, RetryDelayError } from '../../shared/retry-delay.js';
import type { CreateTaskInput, HttpMethod } from '../../shared/types.js';
import type { ApiDeps } from '../deps.js';
import { FORBIDDEN_HEADERS, MAX_HEADERS, MAX_URL_LENGTH } from '../schemas.js';
import { badRequest, notFound } from './errors.js';

/** URL group and queue names: `[A-Za-z0-9_.-]{1,64}` (QStash: alphanumerics, hyphen, underscore, period). */
export const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
/** Flow-control keys map onto a queue `fc.<key>` (api.md §14: onto queues until key concurrency lands). */
export const FLOW_QUEUE_PREFIX = 'fc.';
const FLOW_KEY = /^[A-Za-z0-9_.-]{1,61}$/;
const METHODS = new Set<HttpMethod>(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const MAX_DELAY_SECONDS = 31_536_000;
const MAX_DEDUP_LENGTH = 200;

/** The request's headers, names lower-case (a Headers object or a batch entry's record). */
export type HeaderList = [name: string, value: string][];

/** The queue of a flow-control key. */
export const flowQueue = (key: string) => FLOW_QUEUE_PREFIX + key;

/** A destination URL after the checks /v1 applies to `targetUrl` (and the outbound policy). */
export function checkUrl(value: string, what: string, deps: ApiDeps): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw badRequest(`${what} is not a valid URL: ${value.slice(0, 200)}`);
  }
  if (value.length > MAX_URL_LENGTH) throw badRequest(`${what} is longer than ${MAX_URL_LENGTH} characters`);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw badRequest(`${what} must use http or https`);
  if (u.username || u.password) throw badRequest(`${what} must not contain credentials; forward them with Upstash-Forward-Authorization`);
  if (!u.hostname) throw badRequest(`${what} must have a host`);
  const why = deps.refusedUrl?.(value);
  if (why) throw badRequest(`${what} is refused: ${why}`);
  return value;
}

/** A destination is a URL (http/https) or the name of a URL group. */
export function destinationKind(destination: string): 'url' | 'group' {
  return /^https?:\/\//i.test(destination) ? 'url' : 'group';
}

/** Parses `parallelism=n, rate=n, period=1m` (api.md §14). */
export function parseFlowControl(key: string | undefined, value: string | undefined): QstashFlowControl | null {
  if (key === undefined) {
    if (value !== undefined) throw badRequest('Upstash-Flow-Control-Value needs Upstash-Flow-Control-Key');
    return null;
  }
  if (!FLOW_KEY.test(key)) throw badRequest('Upstash-Flow-Control-Key must match [A-Za-z0-9_.-]{1,61}');
  const fc: QstashFlowControl = { key };
  for (const part of (value ?? '').split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const m = /^(parallelism|rate|period)\s*=\s*(\S+)$/.exec(p);
    if (!m) throw badRequest(`Upstash-Flow-Control-Value: cannot read "${p.slice(0, 50)}"; use parallelism=n, rate=n, period=1m`);
    const [, name, raw] = m as unknown as [string, 'parallelism' | 'rate' | 'period', string];
    const n = name === 'period' ? parseQstashDuration(raw) : /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
    if (n === undefined || n < 1 || n > 100_000 * (name === 'period' ? 864 : 1)) throw badRequest(`Upstash-Flow-Control-Value: ${name} must be a positive ${name === 'period' ? 'duration' : 'integer'}`);
    fc[name] = n;
  }
  return fc;
}

/** The queue limits a flow-control setting asks for: `parallelism` → concurrency, `rate`/`period` → ratePerSecond. */
export function flowLimits(fc: QstashFlowControl): { concurrency?: number; ratePerSecond?: number } {
  const out: { concurrency?: number; ratePerSecond?: number } = {};
  if (fc.parallelism !== undefined) out.concurrency = fc.parallelism;
  if (fc.rate !== undefined) out.ratePerSecond = fc.rate / (fc.period ?? 1);
  return out;
}

export interface PublishInput {
  /** The destination as given: a URL (with its query string) or a URL group name. */
  destination: string;
  headers: HeaderList;
  body: Buffer;
  /** `/v2/enqueue/{queue}/…` or a batch entry's `queue`. */
  queue?: string;
  /** The endpoints when the destination is a URL group (looked up by the caller). */
  endpoints?: { url: string; name: string | null }[];
  now: number;
  callerIp: string | null;
}

export interface Prepared {
  tasks: NewTask[];
  /** The flow control given, to apply to its queue. */
  flowControl: QstashFlowControl | null;
  urlGroup: string | null;
}

const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex').slice(0, 40);

function get(headers: HeaderList, name: string): string | undefined {
  for (const [k, v] of headers) if (k === name) return v;
  return undefined;
}

/** The body as the task's payload: UTF-8 text as is, anything else as base64. */
export function bodyPayload(body: Buffer): { text: string; base64: boolean } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(body), base64: false };
  } catch {
    return { text: body.toString('base64'), base64: true };
  }
}

/** The task fields every QStash message shares, from its headers (api.md §14). Throws QstashError(400). */
export function messageSettings(headers: HeaderList, now: number, deps: ApiDeps) {
  const h = (n: string) => get(headers, n);
  const method = (h('upstash-method') ?? 'POST').toUpperCase() as HttpMethod;
  if (!METHODS.has(method)) throw badRequest('Upstash-Method must be GET, POST, PUT, PATCH or DELETE');
  let runAt: number | undefined;
  let notBefore: number | null = null;
  const nb = h('upstash-not-before');
  const delay = h('upstash-delay');
  if (nb !== undefined) {
    if (!/^\d{1,12}$/.test(nb.trim())) throw badRequest('Upstash-Not-Before must be a unix time in seconds');
    runAt = Number(nb.trim()) * 1000;
    if (runAt > now + MAX_DELAY_SECONDS * 1000) throw badRequest('Upstash-Not-Before is more than a year ahead');
    notBefore = runAt;
  } else if (delay !== undefined) {
    const s = parseQstashDuration(delay);
    if (s === undefined) throw badRequest('Upstash-Delay must be a duration such as 10s, 5m or 1d10h30m');
    if (s > MAX_DELAY_SECONDS) throw badRequest('Upstash-Delay is more than a year');
    if (s > 0) (runAt = now + s * 1000), (notBefore = runAt);
  }
  let retries = 3;
  const r = h('upstash-retries');
  if (r !== undefined) {
    if (!/^\d{1,3}$/.test(r.trim()) || Number(r) > 100) throw badRequest('Upstash-Retries must be an integer from 0 to 100');
    retries = Number(r);
  }
  const retryDelay = h('upstash-retry-delay') ?? null;
  if (retryDelay !== null) {
    try {
      parseRetryDelay(retryDelay);
    } catch (err) {
      if (err instanceof RetryDelayError) throw badRequest(`Upstash-Retry-Delay: ${err.message}`);
      throw err;
    }
  }
  let timeout: number | undefined;
  const t = h('upstash-timeout');
  if (t !== undefined) {
    const s = parseQstashDuration(t);
    if (s === undefined || s < 1 || s > 86_400) throw badRequest('Upstash-Timeout must be a duration from 1s to 1d');
    timeout = s;
  }
  const callback = h('upstash-callback') ?? null;
  if (callback !== null) checkUrl(callback, 'Upstash-Callback', deps);
  const failureCallback = h('upstash-failure-callback') ?? null;
  if (failureCallback !== null) checkUrl(failureCallback, 'Upstash-Failure-Callback', deps);
  let labels: string[] = [];
  const l = h('upstash-label');
  if (l !== undefined) {
    labels = [...new Set(l.split(',').map((x) => x.trim()).filter(Boolean))];
    if (labels.length > 10 || labels.some((x) => x.length > 64)) throw badRequest('Upstash-Label: at most 10 labels of up to 64 characters');
  }
  const forwarded: Record<string, string> = {};
  const sent: Record<string, string> = {};
  for (const [k, v] of headers) {
    if (k === 'content-type' || (k.startsWith('upstash-') && !k.startsWith('upstash-telemetry-'))) sent[k] = v;
    if (!k.startsWith('upstash-forward-')) continue;
    const name = k.slice('upstash-forward-'.length);
    if (!TOKEN.test(name) || FORBIDDEN_HEADERS.has(name)) throw badRequest(`Upstash-Forward-${name}: hop-by-hop and Host headers cannot be forwarded`);
    if (/[\r\n\0]/.test(v) || v.length > 8192) throw badRequest(`Upstash-Forward-${name}: value too long or not allowed`);
    forwarded[name] = v;
  }
  if (Object.keys(forwarded).length > MAX_HEADERS) throw badRequest(`at most ${MAX_HEADERS} Upstash-Forward-* headers`);
  const flowControl = parseFlowControl(h('upstash-flow-control-key'), h('upstash-flow-control-value'));
  const dedupId = h('upstash-deduplication-id');
  if (dedupId !== undefined && (dedupId.length < 1 || dedupId.length > MAX_DEDUP_LENGTH)) throw badRequest(`Upstash-Deduplication-Id must be 1–${MAX_DEDUP_LENGTH} characters`);
  const contentDedup = h('upstash-content-based-deduplication')?.trim().toLowerCase() === 'true';
  return {
    method, runAt, notBefore, retries, retryDelay, timeout, callback, failureCallback, labels, forwarded, sent, flowControl, dedupId, contentDedup,
    contentType: h('content-type') ?? null,
  };
}

/** The tasks of one publish; throws QstashError for anything invalid, before anything is stored. */
export function prepareMessage(input: PublishInput, deps: ApiDeps): Prepared {
  const s = messageSettings(input.headers, input.now, deps);
  const kind = destinationKind(input.destination);
  let targets: { url: string; name: string | null }[];
  let urlGroup: string | null = null;
  if (kind === 'url') targets = [{ url: checkUrl(input.destination, 'destination', deps), name: null }];
  else {
    if (!NAME.test(input.destination)) throw badRequest(`destination must be a URL (http:// or https://) or a URL group name, got "${input.destination.slice(0, 100)}"`);
    if (!input.endpoints || input.endpoints.length === 0) throw notFound(`url group ${input.destination}`);
    urlGroup = input.destination;
    targets = input.endpoints;
  }
  if (input.queue !== undefined && !NAME.test(input.queue)) throw badRequest('queue name must match [A-Za-z0-9_.-]{1,64}');
  const queue = input.queue ?? (s.flowControl ? flowQueue(s.flowControl.key) : undefined);
  const { text, base64 } = bodyPayload(input.body);
  const tasks = targets.map((target) => {
    let idempotencyKey: string | undefined;
    if (s.dedupId !== undefined) idempotencyKey = `qstash:id:${sha(`${s.dedupId}\n${target.url}`)}`;
    else if (s.contentDedup) {
      const headerText = JSON.stringify([s.method, s.contentType, Object.entries(s.forwarded).sort()]);
      idempotencyKey = `qstash:content:${sha(`${target.url}\n${headerText}\n${sha(input.body)}`)}`;
    }
    const meta: QstashMeta = {
      kind: 'message', sent: s.sent, contentType: s.contentType, base64, retryDelay: s.retryDelay, callback: s.callback,
      failureCallback: s.failureCallback, urlGroup, endpointName: target.name, flowControl: s.flowControl, notBefore: s.notBefore,
      callerIp: input.callerIp,
    };
    const task: CreateTaskInput = {
      targetUrl: target.url, payload: text, method: s.method, headers: s.forwarded, retries: s.retries, backoff: { ...QSTASH_BACKOFF },
      labels: s.labels, qstash: meta,
    };
    if (s.timeout !== undefined) task.timeout = s.timeout;
    if (queue !== undefined) task.queue = queue;
    if (idempotencyKey !== undefined) task.idempotencyKey = idempotencyKey;
    const t = toNewTask(task, input.now);
    if (s.runAt !== undefined) t.runAt = Math.max(s.runAt, input.now);
    return t;
  });
  return { tasks, flowControl: s.flowControl, urlGroup };
}
