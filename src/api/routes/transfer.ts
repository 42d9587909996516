// Backup, export and import (api.md §15): GET /v1/backup streams a consistent copy of a SQLite
// database; GET /v1/export streams every task with its attempts as JSON lines; POST
// /v1/import inserts such lines, keeping ids and states, all or nothing per call. Export and
// backup carry the tasks' headers as stored, credentials included (see SECURITY.md).
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { toImportItem, MAX_IMPORT_BATCH, type ExportLine } from '../../shared/transfer.js';
import type { TaskStatus } from '../../shared/types.js';
import { StoreUnsupportedError } from '../../store/store.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';
import { ErrorBodySchema, json, QueueName, TaskStatusSchema } from '../schemas.js';

const errors = { 400: json(ErrorBodySchema, 'invalid_request'), 401: json(ErrorBodySchema, 'unauthorized'), 503: json(ErrorBodySchema, 'unavailable') };
/** Tasks read per page while exporting. */
const EXPORT_PAGE = 200;

const Iso = z.iso.datetime({ offset: true });
const TaskErrorIn = z.object({ type: z.string().min(1).max(32), status: z.number().int().optional(), message: z.string().max(10_000) });
const ImportTask = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a task id'),
    queue: QueueName,
    status: TaskStatusSchema,
    targetUrl: z.string().min(1).max(4096),
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']),
    headers: z.record(z.string(), z.string()),
    payload: z.unknown(),
    webhookUrl: z.string().max(4096).nullable(),
    webhookRetries: z.number().int().min(0).max(100),
    retries: z.number().int().min(0).max(100),
    timeout: z.number().min(0.001).max(86_400),
    backoff: z.object({ initial: z.number().min(0), factor: z.number().min(1), max: z.number().min(0) }),
    priority: z.number().int().min(-100).max(100),
    idempotencyKey: z.string().max(200).nullable(),
    labels: z.array(z.string().max(64)).max(10),
    attempts: z.number().int().min(0),
    runAt: Iso,
    createdAt: Iso,
    updatedAt: Iso,
    completedAt: Iso.nullable(),
    result: z.unknown(),
    error: TaskErrorIn.nullable(),
    webhook: z.object({ status: z.enum(['pending', 'delivered', 'failed']), attempts: z.number().int().min(0), error: TaskErrorIn.nullable() }).nullable(),
    scheduleId: z.string().max(200).nullable(),
  })
  .passthrough();
const ImportAttempt = z.object({ n: z.number().int().min(1), startedAt: Iso, durationMs: z.number().min(0).nullable(), status: z.number().int().optional(), error: TaskErrorIn.optional() });
export const ImportLineSchema = z.object({ task: ImportTask, attempts: z.array(ImportAttempt).max(10_000) }).openapi('ExportLine');
const ImportBody = z.strictObject({ items: z.array(ImportLineSchema).min(1).max(MAX_IMPORT_BATCH) }).openapi('Import');

const exportRoute = createRoute({
  method: 'get', path: '/v1/export', tags: ['transfer'], summary: 'Every task with its attempts, one JSON line each (newest first)',
  request: { query: z.object({ status: TaskStatusSchema.optional(), queue: QueueName.optional() }) },
  responses: { 200: { content: { 'application/x-ndjson': { schema: z.string() } }, description: 'one {"task", "attempts"} object per line' }, ...errors },
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
          const attempts = await Promise.all(page.tasks.map((t) => deps.store.listAttempts(t.id)));
          let out = '';
          page.tasks.forEach((task, i) => {
            const line: ExportLine = { task, attempts: attempts[i] ?? [] };
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
    for (const [i, line] of lines.entries()) {
      const why = deps.refusedUrl?.(line.task.targetUrl) ?? (line.task.webhookUrl ? deps.refusedUrl?.(line.task.webhookUrl) : undefined);
      if (why) throw new ApiError(400, 'invalid_request', `invalid request: items.${i}.task: ${why}`, [{ path: ['items', i, 'task'], message: why }]);
    }
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
