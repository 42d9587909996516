// One-call receiving for the two endpoints an app gives AsyncQueue: the target (worker) that
// gets a task's payload, and the webhook that gets its outcome. Each reads the raw body from a
// web Request (Hono, Next.js route handlers, Bun, Deno) or a Node request (node:http, Express),
// verifies the Standard Webhooks signature and parses the JSON. Loads no server code.
import type { WebhookBody } from '../shared/types.js';
import { verifySignature } from './verify.js';

/** Why a request was not accepted: `status` is what to answer (401 bad signature, 400 bad body). */
export class ReceiveError extends Error {
  override name = 'ReceiveError';
  constructor(
    /** The HTTP status to answer with. */
    readonly status: 400 | 401,
    /** `invalid_signature`, `invalid_body` or `body_consumed` (a body parser ran first and kept no raw body). */
    readonly code: 'invalid_signature' | 'invalid_body' | 'body_consumed',
    message: string,
  ) {
    super(message);
  }
}

/** A Node request (node:http IncomingMessage, Express `req`), maybe with a body parser's result. */
export interface NodeRequestLike extends AsyncIterable<unknown> {
  headers: Record<string, string | string[] | undefined>;
  /** Set by body parsers: a Buffer or string from `express.raw()` / `express.text()`, an object from `express.json()`. */
  body?: unknown;
  /** The raw body, as kept by `express.json({ verify: (req, _res, buf) => { req.rawBody = buf } })`. */
  rawBody?: unknown;
  readableEnded?: boolean;
}

/** What the helpers accept: a web `Request`, Hono's `c.req` (it has `.raw`), or a Node request. */
export type IncomingRequest = Request | { raw: Request } | NodeRequestLike;

/** Options of the receive helpers. */
export interface ReceiveOptions {
  /** Max age of `webhook-timestamp`, in seconds (default 300). */
  tolerance?: number;
}

/** A verified request to your target: the task's payload and who sent it (api.md §5). */
export interface ReceivedTask<TPayload = unknown> {
  /** The task's payload (null when the method sends no body). */
  payload: TPayload;
  taskId: string;
  /** 1-based attempt number over the task's life (`AQ-Attempt`). */
  attempt: number;
  queue: string;
  /** `webhook-id`: the task id, the same on every attempt; dedupe on it. */
  webhookId: string;
}

/**
 * A verified outcome webhook: the §5 body plus `webhookId` (`<task id>.<n>`, one per outcome,
 * kept by re-deliveries: dedupe on it). Narrow on `status`: `result` is null when it `failed`.
 */
export type ReceivedWebhook<TResult = unknown, TPayload = unknown> = WebhookBody<TResult, TPayload> & {
  webhookId: string;
  /** `AQ-Delivery-Attempt`: 1 for the first delivery of this outcome. */
  deliveryAttempt: number;
};

type HeaderSource = Headers | Record<string, string | string[] | undefined>;

function isWebRequest(r: unknown): r is Request {
  return typeof Request !== 'undefined' && r instanceof Request;
}

function headerOf(h: HeaderSource, name: string): string | undefined {
  if (typeof (h as Headers).get === 'function') return (h as Headers).get(name) ?? undefined;
  const v = (h as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(v) ? v[0] : v;
}

async function readNode(req: NodeRequestLike): Promise<string> {
  const raw = req.rawBody ?? req.body;
  if (typeof raw === 'string') return raw;
  if (raw instanceof Uint8Array) return new TextDecoder().decode(raw);
  if (raw !== undefined || req.readableEnded) {
    throw new ReceiveError(400, 'body_consumed',
      'the request body was parsed before it could be verified (express.json()?): give this route express.raw({ type: "application/json" }), or keep the raw body as req.rawBody with express.json({ verify })');
  }
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of req) text += typeof chunk === 'string' ? chunk : decoder.decode(chunk as Uint8Array, { stream: true });
  return text + decoder.decode();
}

/** The raw body and headers of any supported request. */
async function read(request: IncomingRequest): Promise<{ body: string; headers: HeaderSource }> {
  const web = isWebRequest(request) ? request : isWebRequest((request as { raw?: unknown }).raw) ? (request as { raw: Request }).raw : undefined;
  if (web) {
    if (web.bodyUsed) throw new ReceiveError(400, 'body_consumed', 'the request body was already read; pass the request before reading it (or a clone())');
    return { body: await web.text(), headers: web.headers };
  }
  const node = request as NodeRequestLike;
  return { body: await readNode(node), headers: node.headers };
}

async function verified(request: IncomingRequest, secret: string, opts: ReceiveOptions) {
  const { body, headers } = await read(request);
  if (!verifySignature({ secret, headers, body, tolerance: opts.tolerance })) {
    throw new ReceiveError(401, 'invalid_signature', 'the request is not signed by AsyncQueue with this secret (or its timestamp is too old)');
  }
  let parsed: unknown = null;
  if (body !== '') {
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new ReceiveError(400, 'invalid_body', 'the body is not JSON');
    }
  }
  return { parsed, headers, id: headerOf(headers, 'webhook-id')! };
}

/**
 * Verifies and parses a request AsyncQueue sent to your target (the worker side):
 * `const { payload, taskId, attempt } = await parseTask<ReportJob>(request, secret)`.
 * Throws a {@link ReceiveError} (answer its `status`) when it is not genuine.
 */
export async function parseTask<TPayload = unknown>(request: IncomingRequest, secret: string, opts: ReceiveOptions = {}): Promise<ReceivedTask<TPayload>> {
  const { parsed, headers, id } = await verified(request, secret, opts);
  return {
    payload: parsed as TPayload,
    taskId: headerOf(headers, 'aq-task-id') ?? id,
    attempt: Number(headerOf(headers, 'aq-attempt') ?? 1),
    queue: headerOf(headers, 'aq-queue') ?? 'default',
    webhookId: id,
  };
}

/**
 * Verifies and parses an outcome webhook:
 * `const hook = await parseWebhook<Report, ReportJob>(request, secret); if (hook.status === 'completed') hook.result.reportUrl`.
 * Throws a {@link ReceiveError} (answer its `status`) when it is not genuine or not an outcome.
 */
export async function parseWebhook<TResult = unknown, TPayload = unknown>(
  request: IncomingRequest,
  secret: string,
  opts: ReceiveOptions = {},
): Promise<ReceivedWebhook<TResult, TPayload>> {
  const { parsed, headers, id } = await verified(request, secret, opts);
  const b = parsed as Partial<WebhookBody<TResult, TPayload>> | null;
  if (!b || typeof b !== 'object' || typeof b.id !== 'string' || (b.status !== 'completed' && b.status !== 'failed')) {
    throw new ReceiveError(400, 'invalid_body', 'the body is not an AsyncQueue outcome webhook ({id, status: "completed" | "failed", …})');
  }
  const deliveryAttempt = Number(headerOf(headers, 'aq-delivery-attempt') ?? 1);
  return { ...(b as WebhookBody<TResult, TPayload>), webhookId: id, deliveryAttempt };
}
