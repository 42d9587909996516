// How a QStash task (one made through `/v2`, api.md §14) is sent and what follows it: the raw
// body with its own Content-Type, QStash's headers and `Upstash-Signature`, the retry delay of
// `Upstash-Retry-Delay`, and the callback task its outcome makes. The scheduler calls these;
// deciding and sending stay in decide.ts and deliver.ts.
import { TASK_DEFAULTS, toNewTask, type NewTask } from '../shared/defaults.js';
import { QSTASH_BACKOFF, type QstashMeta } from '../shared/qstash.js';
import { signQstash } from '../shared/qstash-signing.js';
import { parseRetryDelay, retryDelayMs, type RetryDelayNode } from '../shared/retry-delay.js';
import type { ClaimedTask } from '../store/store.js';
import type { Decision } from './decide.js';
import type { AttemptOutcome } from './outcome.js';


/** The request body of a QStash task: its payload is the body text, or base64 of a binary body. */
export function qstashBody(t: { payloadJson: string; qstash: QstashMeta }): string | Buffer {
  const stored = JSON.parse(t.payloadJson) as unknown;
  const text = typeof stored === 'string' ? stored : stored === null ? '' : JSON.stringify(stored);
  return t.qstash.base64 ? Buffer.from(text, 'base64') : text;
}

/** `Upstash-Retried` of the attempt being made: retries so far, 0 on the first attempt (and after a DLQ retry). */
export function retriedOf(t: { attempt: number; attemptsBase: number }): number {
  return Math.max(0, t.attempt - t.attemptsBase - 1);
}

/**
 * The headers QStash adds for attempt `t` (api.md §14), given the body about to be sent.
 * `nowSeconds` is wall-clock time: the receiver checks the JWT's `nbf`/`exp` against its own clock.
 */
export function qstashHeaders(t: ClaimedTask & { qstash: QstashMeta }, body: string | Buffer, signingKey: string, nowSeconds: number): Record<string, string> {
  const h: Record<string, string> = {
    'upstash-message-id': t.id,
    'upstash-retried': String(retriedOf(t)),
    'upstash-signature': signQstash(signingKey, { url: t.targetUrl, body, now: nowSeconds }),
  };
  if (t.scheduleId) h['upstash-schedule-id'] = t.scheduleId;
  if (t.qstash.urlGroup) h['upstash-topic-name'] = t.qstash.urlGroup;
  if (t.qstash.endpointName) h['upstash-endpoint-name'] = t.qstash.endpointName;
  if (t.qstash.callerIp) h['upstash-caller-ip'] = t.qstash.callerIp;
  return h;
}

const trees = new Map<string, RetryDelayNode>();

/** The `retryDelayMs` for decideNext from a stored expression (checked at publish), or undefined for the default backoff. */
export function retryDelayOf(meta: QstashMeta): ((made: number) => number) | undefined {
  const src = meta.retryDelay;
  if (!src) return undefined;
  let tree = trees.get(src);
  if (!tree) {
    try {
      tree = parseRetryDelay(src);
    } catch {
      return undefined; // refused at publish; a stored one that no longer parses falls back to the default
    }
    if (trees.size > 1000) trees.clear();
    trees.set(src, tree);
  }
  const parsed = tree;
  return (made) => retryDelayMs(parsed, made - 1);
}

const b64 = (b: Buffer | string) => Buffer.from(b).toString('base64');

function headerLists(h: Record<string, string>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(h)) out[k] = [v];
  return out;
}

/**
 * The callback task that an attempt's decision makes, if any: `Upstash-Callback` after a
 * delivery succeeds, `Upstash-Failure-Callback` once the last attempt failed. Its body is
 * QStash's callback JSON (response status, headers and base64 body, `retried`, `maxRetries`,
 * the source message's id, url, method, headers and base64 body …); it is itself a QStash task,
 * so it is signed with `Upstash-Signature` and retried.
 */
export function callbackTask(t: ClaimedTask & { qstash: QstashMeta }, outcome: AttemptOutcome, d: Decision, now: number): NewTask | undefined {
  const status = d.next.status;
  const url = status === 'completed' ? t.qstash.callback : status === 'failed' ? t.qstash.failureCallback : null;
  if (!url) return undefined;
  const raw = outcome.kind === 'response' ? outcome.raw : undefined;
  const body: Record<string, unknown> = {
    status: outcome.kind === 'response' ? outcome.status : 0,
    header: raw?.headers ?? {},
    body: raw ? b64(raw.body) : '',
    retried: retriedOf(t),
    maxRetries: t.retries,
    sourceMessageId: t.id,
    url: t.targetUrl,
    method: t.method,
    sourceHeader: headerLists(t.headers),
    sourceBody: b64(qstashBody(t)),
    createdAt: t.createdAt,
  };
  if (outcome.kind === 'error') body.error = outcome.error.message;
  if (t.qstash.notBefore !== null) body.notBefore = t.qstash.notBefore;
  if (t.qstash.urlGroup) body.topicName = t.qstash.urlGroup;
  if (t.qstash.endpointName) body.endpointName = t.qstash.endpointName;
  if (t.scheduleId) body.scheduleId = t.scheduleId;
  if (t.qstash.callerIp) body.callerIP = t.qstash.callerIp;
  if (status === 'failed') body.dlqId = t.id;
  const kind = status === 'completed' ? 'callback' : 'failure_callback';
  const text = JSON.stringify(body);
  return toNewTask(
    {
      targetUrl: url, payload: text, method: 'POST', retries: TASK_DEFAULTS.retries, backoff: { ...QSTASH_BACKOFF },
      qstash: {
        kind, sent: {}, contentType: 'application/json', base64: false, retryDelay: null, callback: null, failureCallback: null,
        urlGroup: null, endpointName: null, flowControl: null, notBefore: null, callerIp: null, sourceMessageId: t.id,
      },
    },
    now,
  );
}
