// A real node:http server on 127.0.0.1:0 that answers from a script, for SDK tests of
// failures the real AsyncQueue server cannot be made to produce on demand (503, bad bodies).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

/** One recorded request. */
export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** What to answer: status, JSON body (or raw text) and headers. */
export interface Answer {
  status: number;
  json?: unknown;
  text?: string;
  headers?: Record<string, string>;
}

/** Starts a stub answering the n-th request with `answer(n, req)`; closed when the test finishes. */
export async function startStub(answer: (n: number, req: Seen) => Answer): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const rec: Seen = { method: req.method!, url: req.url!, headers: req.headers, body };
      seen.push(rec);
      const a = answer(seen.length, rec);
      res.writeHead(a.status, { 'content-type': a.text !== undefined ? 'text/plain' : 'application/json', ...a.headers });
      res.end(a.text ?? (a.json === undefined ? '' : JSON.stringify(a.json)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

/** A URL on which nothing listens: a port that was just free. */
export async function closedUrl(): Promise<string> {
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}
