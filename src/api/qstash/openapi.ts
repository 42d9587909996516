// The `/v2` routes in /openapi.json (api.md §14), so a client generator sees them: one line per
// route with its path parameters; bodies and answers are QStash's (see the README's
// "Moving from QStash" and the @upstash/qstash SDK), errors `{"error": "…"}`.
import { z, type OpenAPIHono } from '@hono/zod-openapi';

const QstashErrorSchema = z.object({ error: z.string() }).openapi('QstashError');
const Any = z.unknown().openapi({ description: "QStash's JSON, as the @upstash/qstash SDK reads it" });

type Method = 'get' | 'post' | 'delete' | 'patch';
const ROUTES: [Method, string, string][] = [
  ['post', '/v2/publish/{destination}', 'Publish a message to a URL or URL group (raw body; Upstash-* headers)'],
  ['post', '/v2/enqueue/{queue}/{destination}', 'Enqueue a message to a queue'],
  ['post', '/v2/batch', 'Publish many messages, all or nothing'],
  ['get', '/v2/messages/{id}', 'Get a message'],
  ['delete', '/v2/messages/{id}', 'Cancel a message'],
  ['delete', '/v2/messages', 'Cancel messages by ids or filter; no filter cancels all'],
  ['get', '/v2/dlq', 'List failed messages (filters, cursor)'],
  ['get', '/v2/dlq/{id}', 'Get a failed message'],
  ['delete', '/v2/dlq/{id}', 'Delete a failed message'],
  ['delete', '/v2/dlq', 'Delete failed messages by dlqIds or filter'],
  ['post', '/v2/dlq/retry', 'Retry failed messages by dlqIds or filter'],
  ['post', '/v2/dlq/retry/{id}', 'Retry one failed message'],
  ['post', '/v2/queues', 'Create or update a queue (queueName, parallelism, paused)'],
  ['get', '/v2/queues', 'List queues'],
  ['get', '/v2/queues/{name}', 'Get a queue'],
  ['delete', '/v2/queues/{name}', 'Delete a queue (its waiting messages are cancelled)'],
  ['post', '/v2/queues/{name}/pause', 'Pause a queue'],
  ['post', '/v2/queues/{name}/resume', 'Resume a queue'],
  ['post', '/v2/schedules/{destination}', 'Create or replace a schedule (Upstash-Cron, Upstash-Schedule-Id)'],
  ['get', '/v2/schedules', 'List schedules'],
  ['get', '/v2/schedules/{id}', 'Get a schedule'],
  ['delete', '/v2/schedules/{id}', 'Delete a schedule'],
  ['patch', '/v2/schedules/{id}/pause', 'Pause a schedule'],
  ['patch', '/v2/schedules/{id}/resume', 'Resume a schedule'],
  ['post', '/v2/topics/{name}/endpoints', 'Add endpoints to a URL group'],
  ['delete', '/v2/topics/{name}/endpoints', 'Remove endpoints from a URL group'],
  ['get', '/v2/topics', 'List URL groups'],
  ['get', '/v2/topics/{name}', 'Get a URL group'],
  ['delete', '/v2/topics/{name}', 'Delete a URL group'],
  ['get', '/v2/keys', 'The signing keys for Upstash-Signature'],
  ['get', '/v2/events', 'Logs of messages (derived from their attempts)'],
  ['get', '/v2/logs', 'Logs of messages (alias of /v2/events)'],
  ['get', '/v2/flowControl/{key}', 'A flow-control key (its queue fc.<key>)'],
  ['post', '/v2/flowControl/{key}/pause', 'Pause a flow-control key'],
  ['post', '/v2/flowControl/{key}/resume', 'Resume a flow-control key'],
  ['post', '/v2/flowControl/{key}/pin', 'Pin a flow-control key’s parallelism or rate'],
  ['post', '/v2/flowControl/{key}/unpin', 'Unpin a flow-control key'],
  ['post', '/v2/flowControl/{key}/resetRate', 'Reset a flow-control key’s rate window (no effect)'],
  ['get', '/v2/globalParallelism', 'Global parallelism: --concurrency and attempts in flight'],
];

export function registerQstashDocs(app: OpenAPIHono): void {
  const error = (d: string) => ({ description: d, content: { 'application/json': { schema: QstashErrorSchema } } });
  for (const [method, path, summary] of ROUTES) {
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    const params = names.length > 0 ? z.object(Object.fromEntries(names.map((n) => [n, z.string().openapi({ param: { name: n, in: 'path' } })]))) : undefined;
    app.openAPIRegistry.registerPath({
      method, path, summary, tags: ['qstash'],
      ...(params ? { request: { params } } : {}),
      responses: {
        200: { description: 'done', content: { 'application/json': { schema: Any } } },
        400: error('bad request'), 401: error('missing or wrong token (Bearer or ?qstash_token=)'), 404: error('not found'),
      },
    });
  }
}
