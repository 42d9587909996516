// startTarget: a real HTTP server on 127.0.0.1:0 standing in for a user's worker or webhook
// receiver. Records every request (with its raw body) and the most requests ever in flight.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface RecordedRequest {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: any;
  at: number;
  /** Set when the client dropped the request before it was answered. */
  aborted?: boolean;
}

export interface Reply {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Milliseconds to wait before answering. */
  delayMs?: number;
  /** Never answer (the request hangs until the client gives up). */
  hang?: boolean;
}

export type Respond = (req: RecordedRequest, index: number) => Reply | Promise<Reply>;

export interface Target {
  url: string;
  requests: RecordedRequest[];
  maxInFlight: number;
  /** Resolves once `n` requests have arrived (rejects after `timeoutMs`, if given; else the test's own timeout applies). */
  waitForRequests(n: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** Resolves once the client has dropped `n` requests before their answer (a timeout, a cancel, a stop). */
  waitForAborted(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startTarget(respond: Respond = () => ({ status: 200, body: { ok: true } })): Promise<Target> {
  const requests: RecordedRequest[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const abortWaiters: { n: number; resolve: () => void }[] = [];
  let aborted = 0;
  let inFlight = 0;
  const target: Target = {
    url: '',
    requests,
    maxInFlight: 0,
    waitForRequests(n, timeoutMs) {
      if (requests.length >= n) return Promise.resolve(requests.slice(0, n));
      return new Promise((resolve, reject) => {
        const timer = timeoutMs === undefined ? undefined : setTimeout(() => reject(new Error(`target got ${requests.length} of ${n} requests`)), timeoutMs);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve(requests.slice(0, n))) });
      });
    },
    waitForAborted(n) {
      if (aborted >= n) return Promise.resolve();
      return new Promise((resolve) => abortWaiters.push({ n, resolve }));
    },
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      inFlight++;
      target.maxInFlight = Math.max(target.maxInFlight, inFlight);
      const body = Buffer.concat(chunks).toString('utf8');
      let parsed: unknown;
      try {
        parsed = body ? JSON.parse(body) : undefined;
      } catch {
        parsed = undefined;
      }
      const rec: RecordedRequest = { method: req.method!, path: req.url!, headers: req.headers, body, json: parsed, at: Date.now() };
      const index = requests.push(rec) - 1;
      res.on('close', () => {
        if (res.writableEnded) return;
        rec.aborted = true;
        aborted++;
        for (const w of [...abortWaiters]) if (aborted >= w.n) (abortWaiters.splice(abortWaiters.indexOf(w), 1), w.resolve());
      });
      for (const w of [...waiters]) if (requests.length >= w.n) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
      const reply = await respond(rec, index);
      if (reply.hang) return;
      if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
      inFlight--;
      const isJson = reply.body !== undefined && typeof reply.body !== 'string';
      res.writeHead(reply.status ?? 200, { ...(isJson ? { 'content-type': 'application/json' } : {}), ...(reply.headers ?? {}) });
      res.end(reply.body === undefined ? '' : isJson ? JSON.stringify(reply.body) : String(reply.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  target.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  onTestFinished(() => target.close());
  return target;
}
