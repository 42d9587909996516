// Backup, export and import (api.md §15): GET /v1/backup streams a consistent copy of a SQLite
// database; GET /v1/export streams every task with its attempts as JSON lines (with its chain
// steps, outcome count and, for a batch member, its batch: what a move must keep beyond the
// Task object); POST /v1/import inserts such lines, keeping ids, states, links and batches, all
// or nothing per call. Export and backup carry the tasks' headers as stored, credentials
// included (see SECURITY.md).
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { toImportItem, MAX_IMPORT_BATCH, type ExportLine } from '../../shared/transfer.js';
import { parseRetryDelay } from '../../shared/retry-delay.js';
import { MAX_BATCH, MAX_IMPLIED_TASKS, type ChainedTaskInput, type TaskStatus } from '../../shared/types.js';
import { StoreUnsupportedError } from '../../store/store.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { deeperThan } from '../depth.js';
import { ChainStepsSchema, ConcurrencyKey, ErrorBodySchema, Headers, HttpUrl, json, Labels, QueueName, TaskStatusSchema } from '../schemas.js';
import { checkCreateBody, impliedTasks } from './tasks.js';

const errors = { 400: json(ErrorBodySchema, 'invalid_request'), 401: json(ErrorBodySchema, 'unauthorized'), 503: json(ErrorBodySchema, 'unavailable') };
/** Tasks read per page while exporting. */
const EXPORT_PAGE = 200;

const Iso = z.iso.datetime({ offset: true });
const Id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be an id ([A-Za-z0-9_-]{1,64})');
/** Counts and numbers an export can hold; anything past them is not from an export. */
const Count = z.number().int().min(0).max(1_000_000_000);
const TaskErrorIn = z.object({ type: z.string().min(1).max(32), status: z.number().int().optional(), message: z.string().max(10_000) });
const WebhookIn = z.object({ status: z.enum(['pending', 'delivered', 'failed']), attempts: Count, error: TaskErrorIn.nullable() });
const Short = (n: number) => z.string().max(n);
/** What a `/v2` task keeps of its QStash request (api.md §14), bounded; its callbacks are checked as URLs. */
const QstashIn = z.object({
  kind: z.enum(['message', 'callback', 'failure_callback']),
  sent: z.record(Short(256), Short(8192)).refine((h) => Object.keys(h).length <= 64, 'at most 64 headers'),
  contentType: Short(256).nullable(),
  base64: z.boolean(),
  retryDelay: Short(1024)
    .refine((v) => {
      try {
        parseRetryDelay(v);
        return true;
      } catch {
        return false;
      }
    }, 'not a valid Upstash-Retry-Delay expression')
    .nullable(),
  callback: HttpUrl.nullable(),
  failureCallback: HttpUrl.nullable(),
  urlGroup: Short(200).nullable(),
  endpointName: Short(200).nullable(),
  flowControl: z.object({ key: Short(200), parallelism: z.number().int().min(1).max(1_000_000).optional(), rate: z.number().int().min(1).max(1_000_000).optional(), period: z.number().min(0).max(86_400_000).optional() }).nullable(),
  notBefore: z.number().int().min(0).nullable(),
  callerIp: Short(64).nullable(),
  sourceMessageId: Id.optional(),
});
const ImportTask = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a task id'),
    queue: QueueName,
    status: TaskStatusSchema,
    targetUrl: HttpUrl,
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
    headers: Headers,
    payload: z.unknown(),
    webhookUrl: HttpUrl.nullable(),
    webhookRetries: z.number().int().min(0).max(100),
    retries: z.number().int().min(0).max(100),
    timeout: z.number().min(0.001).max(86_400),
    backoff: z.object({ initial: z.number().min(0), factor: z.number().min(1), max: z.number().min(0) }),
    priority: z.number().int().min(-100).max(100),
    idempotencyKey: z.string().max(200).nullable(),
    labels: Labels,
    attempts: Count,
    runAt: Iso,
    createdAt: Iso,
    updatedAt: Iso,
    completedAt: Iso.nullable(),
    result: z.unknown(),
    error: TaskErrorIn.nullable(),
    webhook: WebhookIn.nullable(),
    scheduleId: z.string().max(200).nullable(),
    // Added to the Task object after the first exports (absent there: none).
    concurrencyKey: ConcurrencyKey.nullable().optional(),
    qstash: QstashIn.nullable().optional(),
    async: z.object({ timeout: z.number().min(1).max(604_800), heartbeat: z.number().min(5).max(3600).nullable() }).nullable().optional(),
    batchId: Id.nullable().optional(),
    parentId: Id.nullable().optional(),
    nextTaskId: Id.nullable().optional(),
  })
  .passthrough();
const ImportAttempt = z.object({
  n: z.number().int().min(1),
  startedAt: Iso,
  durationMs: z.number().min(0).nullable(),
  status: z.number().int().optional(),
  error: TaskErrorIn.optional(),
  retryAfter: z.number().min(0).max(31_536_000).optional(),
  async: z.object({ acceptedAt: Iso, ended: z.enum(['completed', 'failed', 'timeout', 'cancelled']).nullable(), endedAt: Iso.nullable(), lastHeartbeatAt: Iso.nullable() }).optional(),
});
const BatchCount = z.number().int().min(0).max(MAX_BATCH);
/** A member's batch as exported: the GET /v1/batches/:id view and its outcome count. */
const ImportBatch = z
  .object({
    id: Id,
    total: BatchCount,
    counts: z.object({ pending: BatchCount, running: BatchCount, completed: BatchCount, failed: BatchCount, cancelled: BatchCount }),
    done: z.boolean(),
    createdAt: Iso,
    doneAt: Iso.nullable(),
    webhookUrl: HttpUrl.nullable(),
    labels: Labels,
    webhook: WebhookIn.nullable(),
    outcomes: Count,
  })
  .superRefine((b, ctx) => {
    const c = b.counts;
    if (c.pending + c.running + c.completed + c.failed + c.cancelled !== b.total) ctx.addIssue({ code: 'custom', path: ['counts'], message: 'the counts must add up to total' });
    if (b.done !== (b.doneAt !== null)) ctx.addIssue({ code: 'custom', path: ['doneAt'], message: 'set exactly when done' });
    if (b.done && c.pending + c.running > 0) ctx.addIssue({ code: 'custom', path: ['done'], message: 'a done batch has no pending or running task' });
    if (b.done && b.outcomes === 0) ctx.addIssue({ code: 'custom', path: ['outcomes'], message: 'a done batch has been done at least once' });
  })
  .openapi('ExportBatch', { description: "on a batch member's line: its batch as GET /v1/batches/:id shows it, and how many times it became done (the n of webhook-id <batch id>.<n>)" });
export const ImportLineSchema = z
  .object({
    task: ImportTask,
    attempts: z.array(ImportAttempt).max(10_000),
    chain: ChainStepsSchema.optional(),
    outcomes: Count.optional().openapi({ description: "the task's outcomes so far: the n of its last webhook-id <task id>.<n> (api.md §16)" }),
    batch: ImportBatch.optional(),
  })
  .superRefine((l, ctx) => {
    if (l.batch && l.task.batchId !== l.batch.id) ctx.addIssue({ code: 'custom', path: ['batch', 'id'], message: "must be the task's batchId" });
    if (l.chain && impliedTasks(l.chain as ChainedTaskInput) - 1 > MAX_IMPLIED_TASKS) ctx.addIssue({ code: 'custom', path: ['chain'], message: `at most ${MAX_IMPLIED_TASKS} then/onFailure steps` });
  })
  .openapi('ExportLine');
const ImportBody = z.strictObject({ items: z.array(ImportLineSchema).min(1).max(MAX_IMPORT_BATCH) }).openapi('Import');

/** Checks what zod cannot on an import line (the outbound policy, payload depth), naming the field. */
function checkLine(line: ExportLine, deps: ApiDeps, i: number): void {
  const at = ['items', i];
  const refuse = (path: (string | number)[], why: string): never => {
    throw new ApiError(400, 'invalid_request', `invalid request: ${[...at, ...path].join('.')}: ${why}`, [{ path: [...at, ...path], message: why }]);
  };
  const t = line.task;
  const why = deps.refusedUrl?.(t.targetUrl) ?? (t.webhookUrl ? deps.refusedUrl?.(t.webhookUrl) : undefined);
  if (why) refuse(['task'], why);
  for (const field of ['callback', 'failureCallback'] as const) {
    const url = t.qstash?.[field];
    const no = url ? deps.refusedUrl?.(url) : undefined;
    if (no) refuse(['task', 'qstash', field], no);
  }
  for (const field of ['payload', 'result'] as const) if (deeperThan(t[field], deps.maxDepth)) refuse(['task', field], `nests deeper than ${deps.maxDepth} levels`);
  const hook = line.batch?.webhookUrl;
  const no = hook ? deps.refusedUrl?.(hook) : undefined;
  if (no) refuse(['batch', 'webhookUrl'], no);
  if (line.chain) checkCreateBody(line.chain as ChainedTaskInput, deps, [...at, 'chain']);
}

const exportRoute = createRoute({
  method: 'get', path: '/v1/export', tags: ['transfer'], summary: 'Every task with its attempts, one JSON line each (newest first)',
  request: { query: z.object({ status: TaskStatusSchema.optional(), queue: QueueName.optional() }) },
  responses: { 200: { content: { 'application/x-ndjson': { schema: z.string() } }, description: 'one ExportLine per line: {"task", "attempts"}, with "chain", "outcomes" and (for a batch member) "batch"' }, ...errors },
});
const importRoute = createRoute({
  method: 'post', path: '/v1/import', tags: ['transfer'], summary: `Import up to ${MAX_IMPORT_BATCH} exported tasks, keeping ids and states (all or nothing)`,
  request: { body: { required: true, ...json(ImportBody, 'lines of an export') } },
  responses: { 200: json(z.object({ imported: z.number().int(), skipped: z.number().int() }), 'imported; ids already stored are skipped'), ...errors },
});
const backupRoute = createRoute({
  method: 'get', path: '/v1/backup', tags: ['transfer'], summary: 'A consistent copy of the SQLite database, taken while serving',
  responses: { 200: { content: { 'application/vnd.sqlite3': { schema: z.string() } }, description: 'the database file' }, 501: json(ErrorBodySchema, 'not_supported: the store is PostgreSQL (use pg_dump or export)'), ...errors },
});

export function registerTransferRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  app.openapi(exportRoute, (c) => {
    const { status, queue } = c.req.valid('query');
    const encoder = new TextEncoder();
    let cursor: string | undefined;
    let done = false;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (done) return controller.close();
        try {
          const page = await deps.store.listTasks({ status: status as TaskStatus | undefined, queue, limit: EXPORT_PAGE, cursor });
          const ids = page.tasks.map((t) => t.id);
          const [attempts, details] = await Promise.all([Promise.all(ids.map((id) => deps.store.listAttempts(id))), deps.store.exportDetails(ids)]);
          let out = '';
          page.tasks.forEach((task, i) => {
            const d = details.tasks.get(task.id);
            const line: ExportLine = { task, attempts: attempts[i] ?? [] };
            if (d?.chainJson) line.chain = JSON.parse(d.chainJson) as ExportLine['chain'];
            if (d) line.outcomes = d.outcomes;
            const batch = task.batchId ? details.batches.get(task.batchId) : undefined;
            if (batch) line.batch = batch;
            out += JSON.stringify(line) + '\n';
          });
          if (out) controller.enqueue(encoder.encode(out));
          cursor = page.nextCursor ?? undefined;
          if (!cursor) done = true;
        } catch (err) {
          deps.log.error('export failed', { err });
          controller.error(err);
        }
      },
    });
    return c.body(body, 200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-store' }) as never;
  });

  app.openapi(importRoute, async (c) => {
    const now = deps.clock.now();
    const lines = c.req.valid('json').items as unknown as ExportLine[];
    for (const [i, line] of lines.entries()) checkLine(line, deps, i);
    const result = await deps.store.importTasks(lines.map((l) => toImportItem(l, now)), now);
    if (result.imported > 0) {
      deps.wake();
      deps.wakeWebhooks?.();
    }
    return c.json(result, 200);
  });

  app.openapi(backupRoute, async (c) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aq-backup-'));
    const file = path.join(dir, 'backup.db');
    const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
    try {
      await deps.store.backup(file);
    } catch (err) {
      cleanup();
      if (err instanceof StoreUnsupportedError) throw new ApiError(501, 'not_supported', err.message);
      throw err;
    }
    const size = fs.statSync(file).size;
    const stream = fs.createReadStream(file);
    stream.on('close', cleanup);
    const stamp = new Date(deps.clock.now()).toISOString().replace(/[:.]/g, '-');
    return c.body(Readable.toWeb(stream) as ReadableStream<Uint8Array>, 200, {
      'Content-Type': 'application/vnd.sqlite3', 'Content-Length': String(size), 'Content-Disposition': `attachment; filename="asyncqueue-${stamp}.db"`, 'Cache-Control': 'no-store',
    }) as never;
  });
}
