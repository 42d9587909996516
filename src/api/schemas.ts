// The zod schemas of the API: they validate requests and generate /openapi.json (one source).
import { z } from '@hono/zod-openapi';
import { MAX_BATCH, MAX_CHAIN_DEPTH, MAX_LIST_LIMIT, MAX_WAIT_SECONDS, TASK_STATUSES, WAITING_REASONS, type WaitingReason } from '../shared/types.js';

/** Headers a task may not set (RFC 9110 §7.6.1 hop-by-hop, plus Host and framing). */
export const FORBIDDEN_HEADERS = new Set([
  'connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer',
  'transfer-encoding', 'upgrade', 'host', 'content-length', 'expect',
]);
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
export const MAX_URL_LENGTH = 4096;
export const MAX_HEADERS = 64;

export const HttpUrl = z
  .string()
  .max(MAX_URL_LENGTH)
  .superRefine((v, ctx) => {
    let u: URL;
    try {
      u = new URL(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be an absolute http: or https: URL' });
      return;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: 'must use http: or https:' });
    else if (u.username || u.password) ctx.addIssue({ code: 'custom', message: 'must not contain credentials; send them in `headers`' });
    else if (!u.hostname) ctx.addIssue({ code: 'custom', message: 'must have a host' });
  })
  .openapi({ format: 'uri', example: 'https://worker.example.com/jobs/report' });

// JSON.parse keeps a "__proto__" key as an own property, but copying it into a record sets the
// prototype instead, so the header would vanish silently: it is refused by name.
export const Headers = z
  .preprocess(
    (h, ctx) => {
      if (h !== null && typeof h === 'object' && Object.hasOwn(h, '__proto__')) ctx.addIssue({ code: 'custom', path: ['__proto__'], message: 'the header name __proto__ is not accepted' });
      return h;
    },
    z.record(z.string().max(256), z.string().max(8192)).superRefine((h, ctx) => {
      const keys = Object.keys(h);
      if (keys.length > MAX_HEADERS) ctx.addIssue({ code: 'custom', message: `at most ${MAX_HEADERS} headers` });
      for (const k of keys) {
        if (!TOKEN.test(k)) ctx.addIssue({ code: 'custom', path: [k], message: 'not a valid header name' });
        else if (FORBIDDEN_HEADERS.has(k.toLowerCase())) ctx.addIssue({ code: 'custom', path: [k], message: 'hop-by-hop and Host headers cannot be set' });
        if (/[\r\n\0]/.test(h[k]!)) ctx.addIssue({ code: 'custom', path: [k], message: 'header values cannot contain CR, LF or NUL' });
      }
    }),
  )
  .openapi({ type: 'object', additionalProperties: { type: 'string' }, example: { authorization: 'Bearer …' } });

export const BackoffSchema = z
  .strictObject({
    initial: z.number().min(0).max(86_400).optional(),
    factor: z.number().min(1).max(100).optional(),
    max: z.number().min(0).max(604_800).optional(),
  })
  .openapi('Backoff');

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(\.\d{1,9})?([Zz]|[+-](\d\d):(\d\d))$/;

/**
 * True for an RFC 3339 date-time with a time zone that names a real instant: no 2024-02-30
 * (Date.parse would roll it over to March 1), no hour 24, no offset beyond ±23:59.
 */
export function isRfc3339(v: string): boolean {
  const m = RFC3339.exec(v);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const days = new Date(Date.UTC(y, mo, 0)).getUTCDate(); // days in month `mo` of year `y`
  if (mo < 1 || mo > 12 || d < 1 || d > days || h > 23 || mi > 59 || s > 59) return false;
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return false;
  return !Number.isNaN(Date.parse(v));
}

const IsoTime = z.string().max(64).refine(isRfc3339, 'must be an RFC 3339 time with a time zone, e.g. 2030-01-31T09:00:00Z');

/**
 * A query parameter holding a plain decimal number ("5", "2.5"): `z.coerce.number()` would
 * also read "0x10" as 16, "1e1" as 10 and "" as 0.
 */
export const decimalQuery = () =>
  z
    .string()
    .regex(/^\d{1,9}(\.\d{1,6})?$/, 'must be a decimal number')
    .transform(Number);

/** api.md §10: `timeout` 1–604800 s (default 3600), `heartbeat` 5–3600 s or null (default null). */
export const AsyncSchema = z
  .strictObject({
    timeout: z.number().min(1).max(604_800).optional(),
    heartbeat: z.number().min(5).max(3600).nullable().optional(),
  })
  .refine((a) => a.heartbeat == null || a.timeout === undefined || a.heartbeat <= a.timeout, {
    message: 'heartbeat cannot be longer than timeout',
    path: ['heartbeat'],
  })
  .openapi('Async', { description: 'let the target answer 202 and finish later with complete or fail (seconds)' });

/** api.md §12: a tenant, a user, any group of a queue's tasks; 1–200 characters. */
export const ConcurrencyKey = z
  .string()
  .min(1, 'must be 1 to 200 characters')
  .max(200, 'must be 1 to 200 characters')
  // stored as text on both stores (PostgreSQL text has no NUL) and shown in logs and the dashboard
  .regex(/^[^\u0000-\u001f\u007f]*$/, 'cannot contain control characters')
  .openapi({ description: "groups the queue's tasks: the queue's keyConcurrency caps attempts in flight per key, and keys take turns (api.md §12)" });

export const QueueName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must match [A-Za-z0-9_.-]{1,64}');
export const TaskStatusSchema = z.enum(TASK_STATUSES as [string, ...string[]]);

export const Labels = z.array(z.string().min(1).max(64)).max(10);
const chainStep = (when: string) =>
  z.unknown().optional().openapi({
    type: 'object',
    description: `a create body (CreateTask without idempotencyKey, itself allowed then/onFailure, ${MAX_CHAIN_DEPTH} levels at most), created when this task ends ${when} (api.md §13)`,
  });

/** The fields of a create body (api.md §3, §10, §13); `then` / `onFailure` are checked level by level by checkChain. */
const taskFields = {
    targetUrl: HttpUrl,
    payload: z.unknown().optional().openapi({ description: 'any JSON; sent as the request body' }),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
    headers: Headers.optional(),
    webhookUrl: HttpUrl.optional(),
    webhookRetries: z.number().int().min(0).max(100).optional(),
    retries: z.number().int().min(0).max(100).optional(),
    timeout: z.number().min(1).max(86_400).optional(),
    backoff: BackoffSchema.optional(),
    delay: z.number().min(0).max(31_536_000).optional(),
    runAt: IsoTime.optional(),
    queue: QueueName.optional(),
    priority: z.number().int().min(-100).max(100).optional(),
    labels: Labels.optional(),
    concurrencyKey: ConcurrencyKey.optional(),
    async: AsyncSchema.optional(),
    then: chainStep('completed'),
    onFailure: chainStep('failed'),
};
const notBoth = { message: 'give either delay or runAt, not both', path: ['runAt'] };

/** One `then` / `onFailure` step: a create body without idempotencyKey; its own steps are checked by checkChain. */
const ChainStepSchema = z
  .strictObject({
    ...taskFields,
    idempotencyKey: z.never({ message: 'a then/onFailure task cannot have an idempotencyKey: it is created exactly once with the end of the task before it' }).optional(),
  })
  .refine((v) => !(v.delay !== undefined && v.runAt !== undefined), notBoth);

/**
 * Validates the `then` / `onFailure` steps of `v` and below, level by level (api.md §13): each
 * issue names its full path (`then.then.targetUrl`); below MAX_CHAIN_DEPTH levels nothing more
 * is read. Valid steps are replaced by their parsed form.
 */
function checkChain(v: { then?: unknown; onFailure?: unknown }, ctx: z.RefinementCtx, path: (string | number)[] = [], depth = 0): void {
  for (const key of ['then', 'onFailure'] as const) {
    const step = v[key];
    if (step === undefined) continue;
    const at = [...path, key];
    if (depth >= MAX_CHAIN_DEPTH) {
      ctx.addIssue({ code: 'custom', path: at, message: `chains nest at most ${MAX_CHAIN_DEPTH} levels of then/onFailure` });
      continue;
    }
    const r = ChainStepSchema.safeParse(step);
    if (!r.success) {
      for (const i of r.error.issues) ctx.addIssue({ code: 'custom', path: [...at, ...i.path.map((p) => (typeof p === 'symbol' ? String(p) : p))], message: i.message });
      continue;
    }
    v[key] = r.data;
    checkChain(r.data, ctx, at, depth + 1);
  }
}

export const CreateTaskSchema = z
  .strictObject({ ...taskFields, idempotencyKey: z.string().min(1).max(200).optional() })
  .refine((v) => !(v.delay !== undefined && v.runAt !== undefined), notBoth)
  .superRefine((v, ctx) => checkChain(v, ctx))
  .openapi('CreateTask');

/**
 * A task's stored `then` / `onFailure` steps (api.md §13) as an export line carries them
 * (`chain`, api.md §15): checked as a create body's steps are, level by level.
 */
export const ChainStepsSchema = z
  .strictObject({ then: chainStep('completed'), onFailure: chainStep('failed') })
  .refine((v) => v.then !== undefined || v.onFailure !== undefined, 'needs then or onFailure')
  .superRefine((v, ctx) => checkChain(v, ctx))
  .openapi('ChainSteps', { description: "the task's then/onFailure steps not created yet (or created, kept for a retry's end): create bodies, as given when it was created" });

export const BatchSchema = z
  .strictObject({
    tasks: z.array(CreateTaskSchema).min(1).max(MAX_BATCH),
    batch: z
      .strictObject({ webhookUrl: HttpUrl.optional(), labels: Labels.optional() })
      .optional()
      .openapi({ description: 'fan-in (api.md §13): webhookUrl gets one batch.done POST each time every task of the batch has ended' }),
  })
  .openapi('CreateTaskBatch');

const ErrorSchema = z
  .object({
    type: z.enum(['http', 'timeout', 'network', 'cancelled', 'interrupted', 'blocked', 'async']),
    status: z.number().int().optional(),
    message: z.string(),
  })
  .openapi('TaskError');

export const WaitingSchema = z
  .object({ reason: z.enum(WAITING_REASONS as [WaitingReason, ...WaitingReason[]]), until: z.string().optional(), message: z.string() })
  .openapi('Waiting', { description: 'why a pending task is not running (api.md §11)' });

export const TaskSchema = z
  .object({
    id: z.string().openapi({ example: 'tsk_01jd7x0k2m9v4q8r3s6t5w2y1z' }),
    queue: z.string(),
    status: TaskStatusSchema,
    targetUrl: z.string(),
    method: z.string(),
    headers: z.record(z.string(), z.string()),
    payload: z.unknown(),
    webhookUrl: z.string().nullable(),
    webhookRetries: z.number().int(),
    retries: z.number().int(),
    timeout: z.number(),
    backoff: z.object({ initial: z.number(), factor: z.number(), max: z.number() }),
    priority: z.number().int(),
    idempotencyKey: z.string().nullable(),
    labels: z.array(z.string()),
    concurrencyKey: z.string().nullable(),
    attempts: z.number().int(),
    runAt: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    completedAt: z.string().nullable(),
    result: z.unknown(),
    error: ErrorSchema.nullable(),
    webhook: z.object({ status: z.enum(['pending', 'delivered', 'failed']), attempts: z.number().int(), error: ErrorSchema.nullable() }).nullable(),
    scheduleId: z.string().nullable(),
    qstash: z
      .object({
        kind: z.enum(['message', 'callback', 'failure_callback']),
        sent: z.record(z.string(), z.string()).openapi({ description: 'the Upstash-* and Content-Type headers of the publish request, as sent (credentials masked)' }),
        contentType: z.string().nullable(),
        base64: z.boolean(),
        retryDelay: z.string().nullable(),
        callback: z.string().nullable(),
        failureCallback: z.string().nullable(),
        urlGroup: z.string().nullable(),
        endpointName: z.string().nullable(),
        flowControl: z.object({ key: z.string(), parallelism: z.number().optional(), rate: z.number().optional(), period: z.number().optional() }).nullable(),
        notBefore: z.number().nullable(),
        callerIp: z.string().nullable(),
        sourceMessageId: z.string().optional(),
      })
      .nullable()
      .openapi({ description: 'set for a task made through the QStash-compatible /v2 API (a QStash message)' }),
    async: z.object({ timeout: z.number(), heartbeat: z.number().nullable() }).nullable(),
    awaiting: z
      .object({ attempt: z.number().int(), since: z.string(), deadline: z.string(), heartbeatAt: z.string().nullable() })
      .nullable()
      .openapi({ description: 'the open attempt after a 202 (api.md §10)' }),
    waiting: WaitingSchema.nullable(),
    batchId: z.string().nullable().openapi({ description: 'the batch that created this task (api.md §13)' }),
    parentId: z.string().nullable().openapi({ description: 'the task whose then/onFailure created this one' }),
    nextTaskId: z.string().nullable().openapi({ description: 'the task this one\'s then/onFailure created when it ended' }),
  })
  .openapi('Task');

const WebhookStateSchema = z.object({ status: z.enum(['pending', 'delivered', 'failed']), attempts: z.number().int(), error: ErrorSchema.nullable() });

export const BatchViewSchema = z
  .object({
    id: z.string().openapi({ example: 'bat_01jd7x0k2m9v4q8r3s6t5w2y1z' }),
    total: z.number().int(),
    counts: z.object({ pending: z.number().int(), running: z.number().int(), completed: z.number().int(), failed: z.number().int(), cancelled: z.number().int() }),
    done: z.boolean().openapi({ description: 'every task of the batch is terminal' }),
    createdAt: z.string(),
    doneAt: z.string().nullable(),
    webhookUrl: z.string().nullable(),
    labels: z.array(z.string()),
    webhook: WebhookStateSchema.nullable().openapi({ description: 'the batch.done webhook of the latest time the batch became done' }),
  })
  .openapi('Batch');

export const PlanSchema = z
  .object({
    waiting: WaitingSchema.nullable(),
    attempts: z.array(z.object({ n: z.number().int(), earliest: z.string(), latest: z.string().nullable() })),
    givesUpAt: z.string().nullable(),
  })
  .openapi('TaskPlan');

export const AttemptSchema = z
  .object({
    n: z.number().int(),
    startedAt: z.string(),
    durationMs: z.number().int().nullable(),
    status: z.number().int().optional(),
    error: ErrorSchema.optional(),
    retryAfter: z.number().optional().openapi({ description: 'seconds a Retry-After header of the answer asked for' }),
    async: z
      .object({
        acceptedAt: z.string(),
        ended: z.enum(['completed', 'failed', 'timeout', 'cancelled']).nullable(),
        endedAt: z.string().nullable(),
        lastHeartbeatAt: z.string().nullable(),
      })
      .optional()
      .openapi({ description: 'an attempt the target answered 202: the wait and how it ended' }),
  })
  .openapi('Attempt');

export const DeliverySchema = z
  .object({
    outcome: z.number().int().openapi({ description: 'which of the task\'s outcomes, from 1: the n of webhook-id <task id>.<n>' }),
    attempt: z.number().int().openapi({ description: 'the attempt within its outcome, from 1' }),
    startedAt: z.string(),
    durationMs: z.number().int().nullable(),
    status: z.number().int().optional(),
    error: ErrorSchema.optional(),
  })
  .openapi('Delivery');
export const CompleteSchema = z
  .strictObject({ result: z.unknown().optional(), attempt: z.number().int().min(1).optional() })
  .openapi('CompleteBody');
export const FailSchema = z
  .strictObject({ message: z.string().max(4096).optional(), retry: z.boolean().optional(), attempt: z.number().int().min(1).optional() })
  .openapi('FailBody');
export const HeartbeatSchema = z.strictObject({ attempt: z.number().int().min(1).optional() }).openapi('HeartbeatBody');

const Counts = z.record(z.string(), z.number().int());

export const QueueSchema = z
  .object({
    name: z.string(), concurrency: z.number().int().nullable(), ratePerSecond: z.number().nullable(), keyConcurrency: z.number().int().nullable(),
    paused: z.boolean(), counts: Counts,
  })
  .openapi('Queue');

export const QueueUpdateSchema = z
  .strictObject({
    concurrency: z.number().int().min(1).max(100_000).nullable().optional(),
    ratePerSecond: z.number().gt(0).max(1_000_000).nullable().optional(),
    keyConcurrency: z.number().int().min(1).max(100_000).nullable().optional()
      .openapi({ description: 'max attempts in flight per concurrencyKey (api.md §12); null removes the limit' }),
    paused: z.boolean().optional(),
  })
  .openapi('QueueUpdate');

/** api.md §12: one target origin on this node. */
export const HostSchema = z
  .object({
    origin: z.string().openapi({ example: 'https://api.example.com' }),
    state: z.enum(['closed', 'open', 'half_open']),
    inFlight: z.number().int(),
    limit: z.number().int().nullable().openapi({ description: 'the concurrency after 429/503 answers (capped by --host-concurrency); null = no limit of its own' }),
    consecutiveFailures: z.number().int(),
    openUntil: z.string().nullable().openapi({ description: 'while open: when one probe attempt may start' }),
    notBefore: z.string().nullable().openapi({ description: 'no attempt before this: a Retry-After of a 429/503 (at most 10 minutes)' }),
    recentFailures: z.array(z.object({ at: z.string(), error: z.string() })).openapi({ description: 'the last failures, newest first (at most 5)' }),
  })
  .openapi('Host');

export const HostResetSchema = z
  .strictObject({
    origin: z
      .string()
      .max(2048)
      .refine((v) => {
        try {
          const u = new URL(v);
          return u.protocol === 'http:' || u.protocol === 'https:';
        } catch {
          return false;
        }
      }, 'must be an http(s) origin such as https://api.example.com')
      .openapi({ example: 'https://api.example.com' }),
  })
  .openapi('HostReset');

export const StatsSchema = z
  .object({
    counts: Counts,
    queues: z.record(z.string(), Counts),
    perMinute: z.array(z.object({ minute: z.string(), dispatched: z.number().int(), completed: z.number().int(), failed: z.number().int() })),
    inFlight: z.number().int(),
  })
  .openapi('Stats');

export const BulkFilterSchema = z
  .strictObject({
    ids: z.array(z.string().max(64)).max(10_000).optional(),
    batch: z.string().min(1).max(64).optional().openapi({ description: 'the tasks of this batch (api.md §13)' }),
    status: TaskStatusSchema.optional(),
    queue: QueueName.optional(),
    label: z.string().min(1).max(64).optional(),
    createdBefore: IsoTime.optional(),
  })
  .refine((f) => Object.values(f).some((v) => v !== undefined), { message: 'give at least one filter: ids, batch, status, queue, label or createdBefore' })
  .openapi('BulkFilter');

export const RedeliverFilterSchema = z
  .strictObject({
    ids: z.array(z.string().max(64)).max(10_000).optional(),
    status: z.enum(['completed', 'failed']).optional(),
    queue: QueueName.optional(),
    label: z.string().min(1).max(64).optional(),
    createdBefore: IsoTime.optional(),
    webhookStatus: z.enum(['pending', 'delivered', 'failed']).optional().openapi({ description: 'the webhook state, e.g. "failed": every delivery that was given up' }),
  })
  .refine((f) => Object.values(f).some((v) => v !== undefined), { message: 'give at least one filter: ids, status, queue, label, createdBefore or webhookStatus' })
  .openapi('RedeliverFilter');

export const SigningSecretSchema = z
  .object({
    secret: z.string().openapi({ example: 'whsec_…' }),
    source: z.enum(['config', 'database']).openapi({ description: 'config: --signing-secret / AQ_SIGNING_SECRET; database: generated on first start and kept there' }),
  })
  .openapi('SigningSecret');

export const WaitQuery = z.object({
  wait: decimalQuery().pipe(z.number().min(0).max(MAX_WAIT_SECONDS)).optional().openapi({ description: `seconds to hold the answer until the task is terminal (≤ ${MAX_WAIT_SECONDS})` }),
});

export const ListQuery = z.object({
  status: TaskStatusSchema.optional(),
  queue: QueueName.optional(),
  label: z.string().min(1).max(64).optional(),
  schedule: z.string().min(1).max(64).optional().openapi({ description: 'tasks created by this schedule' }),
  batch: z.string().min(1).max(64).optional().openapi({ description: 'the tasks of this batch (api.md §13)' }),
  payloadField: z.string().regex(/^[A-Za-z0-9_-]{1,64}(\.[A-Za-z0-9_-]{1,64}){0,7}$/, 'a dot path of names such as jobId or customer.id').optional()
    .openapi({ description: 'with payloadValue: tasks whose payload has this value at this dot path; a bounded scan of the 10,000 newest tasks matching the other filters per page' }),
  payloadValue: z.string().max(500).optional().openapi({ description: 'the value at payloadField, compared as text' }),
  limit: decimalQuery().pipe(z.number().int().min(1).max(MAX_LIST_LIMIT)).optional(),
  cursor: z.string().max(64).optional(),
}).refine((q) => (q.payloadField === undefined) === (q.payloadValue === undefined), { message: 'give payloadField and payloadValue together', path: ['payloadValue'] });

// No id has a control character; PostgreSQL text cannot even hold a NUL, so such an id is a 400, not a failed query.
export const IdParam = z.object({
  id: z.string().min(1).max(64).regex(/^[^\u0000-\u001f\u007f]*$/, 'cannot contain control characters').openapi({ param: { name: 'id', in: 'path' } }),
});
export const QueueParam = z.object({ name: QueueName.openapi({ param: { name: 'name', in: 'path' } }) });

export const ErrorBodySchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.array(z.unknown()).optional() }) })
  .openapi('Error');

/** A JSON body or response entry of a route definition: `json(TaskSchema, 'the task')`. */
export const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { 'application/json': { schema } }, description });
