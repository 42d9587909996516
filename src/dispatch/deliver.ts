// Sends one HTTP request for an attempt or a webhook delivery with the shared undici Agent and
// returns an AttemptOutcome: it never throws for a target's failure. undici's errors map to
// TaskError types here and nowhere else.
import { createRequire } from 'node:module';
import type { Agent, Dispatcher } from 'undici';
import { guardParser, MAX_HEADER_BYTES } from './parse-guard.js';
import type { TaskError } from '../shared/types.js';
import type { AttemptOutcome } from './outcome.js';

const require = createRequire(import.meta.url);
let undiciModule: typeof import('undici') | undefined;

/** undici, loaded on first use: a server that has sent nothing yet does not carry it (≈ 12 MiB). */
export const undici = (): typeof import('undici') => (undiciModule ??= require('undici') as typeof import('undici'));

export interface AgentOptions {
  /** Max open connections per origin (default 128). */
  connections: number;
  /** Optional `connect` override (outbound policy checks the connected address there). */
  connect?: Agent.Options['connect'];
}

/** What attempts and deliveries send through: the shared Agent's dispatch, and close. */
export interface Outbound {
  dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean;
  close(): Promise<void>;
}

/**
 * One keep-alive Agent shared by every attempt and delivery, created at the first request.
 * Redirects are never followed. Every connection's parser is bounded (parse-guard.ts): a
 * hostile answer cannot hold the loop.
 */
export function createAgent(opts: AgentOptions): Outbound {
  let agent: Agent | undefined;
  const get = () => {
    if (agent) return agent;
    const { Agent, buildConnector } = undici();
    const base = typeof opts.connect === 'function' ? opts.connect : buildConnector(opts.connect ?? {});
    return (agent = new Agent({
      connections: opts.connections,
      pipelining: 1,
      keepAliveTimeout: 10_000,
      keepAliveMaxTimeout: 60_000,
      maxHeaderSize: MAX_HEADER_BYTES,
      connect: (o, cb) => base(o, (err, socket) => (socket ? cb(null, guardParser(socket)) : cb(err!, null))),
    }));
  };
  return {
    dispatch: (options, handler) => get().dispatch(options, handler),
    close: () => (agent ? agent.close() : Promise.resolve()),
  };
}

export interface SendRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | Buffer | null;
  /** Aborted on timeout (reason "timeout"), cancel ("cancelled") or shutdown ("interrupted"). */
  signal: AbortSignal;
  timeoutMs: number;
  /** Bytes of response body kept (api.md §6 --max-result). */
  maxResultBytes: number;
  /** When false, the body is drained but not kept (webhook deliveries). */
  keepBody: boolean;
  /** Also return the response headers and raw body (QStash callbacks need them). */
  keepRaw?: boolean;
}

const NO_RETRY = 'aq-no-retry';
/** QStash's way to say the same (api.md §14): status 489 with this header `true`. */
const UPSTASH_NO_RETRY = 'upstash-nonretryable-error';

function describe(req: SendRequest): string {
  return `${req.method} ${req.url}`;
}

/** Maps an error thrown by undici (or an abort) to a TaskError. */
export function classifyError(err: unknown, req: SendRequest): TaskError {
  const reason = req.signal.aborted ? String(req.signal.reason ?? '') : '';
  const code = String((err as { code?: unknown })?.code ?? '');
  if (reason === 'cancelled') return { type: 'cancelled', message: `cancelled by request: ${describe(req)}` };
  if (reason === 'interrupted') return { type: 'interrupted', message: `the server stopped during ${describe(req)}` };
  if (reason === 'timeout' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return { type: 'timeout', message: `timed out after ${req.timeoutMs / 1000} s: ${describe(req)}` };
  }
  if (code === 'AQ_BLOCKED') return { type: 'blocked', message: `${(err as Error).message}: ${describe(req)}` };
  if (code === 'AQ_HEADERS_TOO_LARGE' || code === 'AQ_BODY_PIECES' || code === 'UND_ERR_HEADERS_OVERFLOW') {
    return { type: 'network', message: `${code === 'UND_ERR_HEADERS_OVERFLOW' ? `response headers over ${MAX_HEADER_BYTES / 1024} KiB; connection dropped` : (err as Error).message}: ${describe(req)}` };
  }
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const detail = cause?.code ?? (code || (err as Error)?.message || 'network error');
  return { type: 'network', message: `${detail}: ${describe(req)}` };
}

/** Body pieces (parser callbacks) allowed per response: PIECES_FREE plus one per PIECE_BYTES received. */
const PIECES_FREE = 1024;
const PIECE_BYTES = 64;

/** Bytes of a non-2xx body read (for the error message) before the connection is dropped. */
const ERROR_BODY_BYTES = 16 * 1024;

/** The result as JSON text: JSON bodies as sent when valid, anything else as a JSON string; empty → null. */
export function resultJson(buf: Buffer, contentType: string | undefined): string | null {
  if (buf.length === 0) return null;
  const text = buf.toString('utf8');
  if (contentType && /[/+]json\b/i.test(contentType)) {
    try {
      JSON.parse(text);
      return text;
    } catch {
      // truncated or not JSON after all: keep it as a string
    }
  }
  return JSON.stringify(text);
}

function rawHeaders(h: Record<string, string | string[] | undefined>): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined) out[k] = Array.isArray(v) ? v : [v];
  return out;
}

/**
 * Sends `req` with `agent`; the outcome, never an exception. Uses undici's dispatch handler
 * directly (no response stream per attempt): the body is collected up to its cap, after which
 * the request is aborted. An abort of `req.signal` settles at once, even while the request
 * still waits for a connection.
 */
export function send(agent: Outbound, req: SendRequest): Promise<AttemptOutcome> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  return new Promise<AttemptOutcome>((resolve) => {
    let settled = false;
    let controller: Dispatcher.DispatchController | undefined;
    let status = 0;
    let headers: Record<string, string | string[] | undefined> = {};
    let keep = false;
    let limit = 0;
    let size = 0;
    let pieces = 0;
    const chunks: Buffer[] = [];
    const header = (name: string) => {
      const v = headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const settle = (outcome: AttemptOutcome) => {
      if (settled) return;
      settled = true;
      req.signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    const fail = (err: unknown) => settle({ kind: 'error', error: classifyError(err, req), durationMs: elapsed() });
    const respond = () => {
      const ok = status >= 200 && status < 300;
      const buf = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      settle({
        kind: 'response',
        status,
        noRetry:
          header(NO_RETRY)?.trim().toLowerCase() === 'true' || (status === 489 && header(UPSTASH_NO_RETRY)?.trim().toLowerCase() === 'true'),
        retryAfter: header('retry-after'),
        resultJson: keep ? resultJson(buf, header('content-type')) : null,
        errorBody: ok || buf.length === 0 ? undefined : buf.subarray(0, 300).toString('utf8'),
        raw: req.keepRaw ? { headers: rawHeaders(headers), body: buf } : undefined,
        durationMs: elapsed(),
      });
    };
    const abortError = () => Object.assign(new Error(`aborted: ${String(req.signal.reason)}`), { name: 'AbortError' });
    function onAbort() {
      controller?.abort(abortError());
      fail(abortError());
    }
    if (req.signal.aborted) return fail(abortError());
    req.signal.addEventListener('abort', onAbort, { once: true });
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(c) {
        controller = c;
        if (settled || req.signal.aborted) c.abort(abortError());
      },
      onResponseStart(_c, statusCode, h) {
        if (statusCode < 200) return; // 1xx informational: the real answer follows
        status = statusCode;
        headers = h as typeof headers;
        keep = status >= 200 && status < 300 && req.keepBody;
        limit = keep ? req.maxResultBytes : ERROR_BODY_BYTES;
      },
      onResponseData(c, chunk) {
        if (settled) return;
        // A body sent as many tiny chunks costs a parser callback each: past the allowance the
        // connection is dropped (undici stops parsing at once once its socket is destroyed).
        if (++pieces > PIECES_FREE + size / PIECE_BYTES) {
          fail(Object.assign(new Error(`response body in over ${pieces - 1} pieces of ${Math.round(size / pieces)} bytes on average; connection dropped`), { code: 'AQ_BODY_PIECES' }));
          c.abort(new Error('response body pieces cap reached'));
          return;
        }
        if (size + chunk.length >= limit) {
          // The cap is reached: keep what fits, answer now, and drop the rest with the connection.
          if (limit > size) chunks.push(chunk.subarray(0, limit - size));
          size = limit;
          respond();
          c.abort(new Error('response body cap reached'));
          return;
        }
        chunks.push(chunk);
        size += chunk.length;
      },
      onResponseEnd() {
        respond();
      },
      onResponseError(_c, err) {
        fail(err);
      },
    };
    try {
      const url = new URL(req.url);
      agent.dispatch(
        {
          origin: url.origin,
          path: url.pathname + url.search,
          method: req.method as Dispatcher.HttpMethod,
          headers: req.headers,
          body: req.body ?? undefined,
          headersTimeout: req.timeoutMs,
          bodyTimeout: req.timeoutMs,
        },
        handler,
      );
    } catch (err) {
      fail(err);
    }
  });
}
