// Targets that misbehave on purpose, on 127.0.0.1:0: never answer, stream a huge generated body,
// drip one byte at a time, or reset the connection. Each counts the bytes it managed to send.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { onTestFinished } from 'vitest';

export type Behaviour = 'hang' | 'huge' | 'drip' | 'reset' | 'redirect' | 'endless-headers' | Flood;

/** One write of a complete, well-framed answer whose parsing is the attack. */
export type Flood = 'header-flood' | 'trailer-flood' | 'chunk-flood';

const floods = new Map<Flood, Buffer>();
/** 100,000 header lines; 100,000 trailer lines after an empty chunked body; 200,000 one-byte chunks. */
export function floodAnswer(kind: Flood): Buffer {
  let b = floods.get(kind);
  if (!b) {
    const lines = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}${i}: v\r\n`).join('');
    const chunked = 'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const text =
      kind === 'header-flood' ? `HTTP/1.1 200 OK\r\n${lines('x-f', 100_000)}Content-Length: 2\r\n\r\n{}`
      : kind === 'trailer-flood' ? `${chunked}0\r\n${lines('t', 100_000)}\r\n`
      : `${chunked}${'1\r\n7\r\n'.repeat(200_000)}0\r\n\r\n`;
    b = Buffer.from(text, 'latin1');
    floods.set(kind, b);
  }
  return b;
}

export interface HostileTarget {
  url: string;
  /** Body bytes written to sockets so far (huge, drip). */
  sent: number;
  /** Requests received, by path. */
  paths: string[];
}

/** A generated body of `total` bytes in 64 KiB chunks, produced only as fast as it is read. */
function generated(total: number): Readable {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let left = total;
  return new Readable({
    read() {
      if (left <= 0) return void this.push(null);
      const n = Math.min(left, chunk.length);
      left -= n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

/** Starts a target behaving as `b` (status for `huge`: `status`, default 200). Closed when the test ends. */
export async function startHostileTarget(b: Behaviour, status = 200): Promise<HostileTarget> {
  const t: HostileTarget = { url: '', sent: 0, paths: [] };
  const timers = new Set<NodeJS.Timeout>();
  const server = http.createServer((req, res) => {
    t.paths.push(req.url ?? '');
    req.resume();
    if (b === 'hang') return;
    if (b === 'reset') return void req.socket.resetAndDestroy();
    if (b === 'redirect') return void res.writeHead(302, { location: '/elsewhere' }).end('moved');
    if (b === 'header-flood' || b === 'trailer-flood' || b === 'chunk-flood') {
      req.on('end', () => req.socket.writable && req.socket.write(floodAnswer(b)));
      return;
    }
    if (b === 'endless-headers') {
      const sock = req.socket;
      sock.write('HTTP/1.1 200 OK\r\n');
      const timer = setInterval(() => sock.writable && sock.write(`x-filler-${t.sent++}: ${'y'.repeat(1000)}\r\n`), 1);
      timers.add(timer);
      sock.on('close', () => clearInterval(timer));
      return;
    }
    if (b === 'huge') {
      res.writeHead(status, { 'content-type': 'text/plain', 'content-length': String(1024 ** 3) });
      const body = generated(1024 ** 3);
      body.on('data', (c: Buffer) => (t.sent += c.length));
      body.pipe(res);
      res.on('close', () => body.destroy());
      return;
    }
    // drip: one byte every 20 ms, forever
    res.writeHead(200, { 'content-type': 'text/plain' });
    const timer = setInterval(() => {
      if (res.writable) (res.write('x'), t.sent++);
    }, 20);
    timers.add(timer);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  onTestFinished(
    () =>
      new Promise<void>((r) => {
        for (const timer of timers) clearInterval(timer);
        server.closeAllConnections();
        server.close(() => r());
      }),
  );
  return t;
}
