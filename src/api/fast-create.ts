// `POST /v1/tasks` and `POST /v1/tasks/batch` answered straight on node:http, in front of the
// Hono app: the one-task-per-request pattern spent most of its server CPU on the web
// Request/Response adapter. It takes only the plain case, validated by the same zod schemas,
// and hands everything else to Hono (with the body already read, as `rawBody`), which answers
// it exactly as before, error messages included.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { CreateBatchInput, CreateTaskInput } from '../shared/types.js';
import { JSON_TYPE, requestId } from './app.js';
import { bearer, tokenChecker } from './auth.js';
import type { ApiDeps } from './deps.js';
import { errorAnswer } from './errors.js';
import { BatchSchema, CreateTaskSchema } from './schemas.js';
import { decodeUtf8 } from './text.js';
import { presentTask, presentTasks } from './present.js';
import { applyKeyHeader, taskCreator } from './routes/tasks.js';

const DIGITS = /^\d+$/;

/** How many requests took the raw path and how many went on to Hono (for tests and the bench). */
export interface FastCreateCounts {
  fast: number;
  fallback: number;
}

/**
 * A request listener that answers plain creates itself and passes every other request to
 * `fallback` (the Hono listener). A create is plain when it passes, unchanged, each check the
 * app's middleware makes (app.ts: CORS off, bearer token, JSON media type, Content-Length within
 * --max-body, no query string) and its body passes the route's zod schema; a new check in app.ts
 * must be added to `plain()` here too, or the raw path would skip it.
 */
export function fastCreateListener(deps: ApiDeps, fallback: RequestListener): RequestListener & { counts: FastCreateCounts } {
  const checkToken = tokenChecker(deps.tokens);
  const creator = taskCreator(deps);
  const counts: FastCreateCounts = { fast: 0, fallback: 0 };
  const corsOff = deps.corsOrigins.length === 0;
  const debug = deps.log.enabled('debug');

  const plain = (req: IncomingMessage, single: boolean): boolean => {
    const h = req.headers;
    const length = h['content-length'];
    if (!corsOff || length === undefined || h['transfer-encoding'] !== undefined) return false;
    if (!DIGITS.test(length) || Number(length) > deps.maxBody || length === '0') return false;
    const type = h['content-type'];
    if (type === undefined || !JSON_TYPE.test(type)) return false;
    if (deps.tokens.length > 0 && !checkToken(bearer(h.authorization))) return false;
    const key = h['idempotency-key'];
    if (single && key !== undefined && (typeof key !== 'string' || key.length < 1 || key.length > 200)) return false;
    return true;
  };

  const answer = (res: ServerResponse, id: string, status: number, body: unknown, extra?: Record<string, string>) => {
    const text = JSON.stringify(body);
    const headers: Record<string, string | number> = { 'content-type': 'application/json', 'x-request-id': id, 'content-length': Buffer.byteLength(text) };
    for (const k in extra) headers[k.toLowerCase()] = extra[k]!;
    res.writeHead(status, headers);
    res.end(text);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, buf: Buffer, single: boolean, started: number) => {
    // Invalid UTF-8 (which toString would turn into U+FFFD) goes to Hono, which refuses it.
    const text = decodeUtf8(buf);
    let parsed: unknown;
    try {
      parsed = text === undefined ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    // The schema's own parse (as the route's validator runs it); a failure goes to Hono, whose
    // validator words the error.
    const valid = parsed === undefined ? undefined : (single ? CreateTaskSchema : BatchSchema).safeParse(parsed);
    const input = single && valid?.success ? (valid.data as CreateTaskInput) : undefined;
    const batch = !single && valid?.success ? (valid.data as CreateBatchInput) : undefined;
    if (input === undefined && batch === undefined) {
      counts.fallback++;
      (req as IncomingMessage & { rawBody?: Buffer }).rawBody = buf;
      return fallback(req, res);
    }
    counts.fast++;
    const id = requestId(req.headers['x-request-id'] as string | undefined);
    let status = 500;
    try {
      const now = deps.clock.now();
      if (input) {
        applyKeyHeader(input, req.headers['idempotency-key'] as string | undefined);
        const r = await creator.one(input, now);
        status = r.created ? 201 : 200;
        answer(res, id, status, await presentTask(deps, r.task));
      } else {
        const { batchId, results } = await creator.batch(batch!, now);
        status = 201;
        answer(res, id, status, { batchId, tasks: await presentTasks(deps, results.map((r) => r.task)) });
      }
    } catch (err) {
      const a = errorAnswer(err, deps.log, { requestId: id, path: req.url, method: req.method });
      status = a.status;
      answer(res, id, status, a.body, a.headers);
    }
    if (debug) deps.log.debug('request', { requestId: id, method: req.method, path: req.url, status, ms: Math.round(performance.now() - started) });
  };

  const listener = (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url;
    const single = url === '/v1/tasks';
    if (req.method !== 'POST' || (!single && url !== '/v1/tasks/batch') || !plain(req, single)) {
      counts.fallback++;
      return fallback(req, res);
    }
    const started = performance.now();
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      chunks.push(c);
      size += c.length;
    });
    // An aborted upload gets no answer (its socket is gone), as on the Hono path.
    req.on('error', () => undefined);
    req.on('end', () => {
      void handle(req, res, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), single, started);
    });
  };
  return Object.assign(listener, { counts });
}
