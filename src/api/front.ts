// The checks every request passes before any route (Hono's or a faster one) sees it: a request
// target and Host that a URL can be built from, and, when the server listens on loopback, a
// Host that names this machine (DNS-rebinding guard). Refusals are answered here in the
// contract's error shape (api.md §3); what Node's parser rejects is answered by clientError.
import type { IncomingMessage, ServerResponse } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.js';
import type { ErrorCode } from './errors.js';

export interface FrontOptions {
  /** The interface the server listens on (config.host): on loopback, Host names are checked. */
  listenHost: string;
  /** config.allowedHosts: extra names answered on loopback; "*.x" matches subdomains, "*" any. */
  allowedHosts: string[];
  /** Authority used for an HTTP/1.0 request without Host (the server's own host:port). */
  ownAuthority: () => string;
  log: Logger;
}

/** True for an interface only this machine can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackInterface(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '::ffff:127.0.0.1';
}

// RFC 3986 §3.2.2 host (reg-name or IP literal) with an optional port.
const HOST = /^(\[[0-9a-f:.]+\]|[a-z0-9._~!$&'()*+,;=%-]+)(?::(\d{1,5}))?$/i;

/**
 * Whether a Host name (no port, lower-case) may reach a loopback server: IP literals (a
 * rebinding page has a name, not an address), `localhost` and `*.localhost`, and `allowed`.
 */
export function loopbackHostAllowed(name: string, allowed: string[]): boolean {
  const bare = name.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  if (net.isIP(bare) !== 0 || bare === 'localhost' || bare.endsWith('.localhost')) return true;
  return allowed.some((a) => a === '*' || (a.startsWith('*.') ? bare.endsWith(a.slice(1)) : a === bare));
}

/** Writes a complete error answer (api.md §3 shape) and closes the connection after it. */
export function answerError(res: ServerResponse, status: number, code: ErrorCode, message: string, headers: Record<string, string> = {}): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body)), Connection: 'close' });
  res.end(body);
}

/** The same answer written straight to a socket (CONNECT, upgrades: no ServerResponse exists). */
export function answerSocket(socket: Duplex, status: string, code: ErrorCode, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  if (!socket.writable) return void socket.destroy();
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * The guard: `true` when it answered the request itself (the caller stops), `false` when the
 * request may go on to the routes. An HTTP/1.0 request without Host gets the server's own.
 */
export function createFrontGuard(o: FrontOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  const checkHost = isLoopbackInterface(o.listenHost) && !o.allowedHosts.includes('*');
  const refuse = (req: IncomingMessage, res: ServerResponse, status: number, code: ErrorCode, message: string, headers?: Record<string, string>) => {
    o.log.debug('request refused before routing', { method: req.method, status, reason: message });
    answerError(res, status, code, message, headers);
    return true;
  };
  return (req, res) => {
    const target = req.url ?? '';
    let authority = req.headers.host;
    if (target === '*') {
      // RFC 9110 §9.3.7: OPTIONS * asks about the server itself.
      if (req.method === 'OPTIONS') {
        res.writeHead(204, { Allow: 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS', 'Content-Length': '0' });
        res.end();
        return true;
      }
      return refuse(req, res, 400, 'invalid_request', `the request target * is only valid with OPTIONS, not ${req.method}`);
    }
    if (target[0] !== '/') {
      // RFC 9112 §3.2.2: absolute-form is accepted, and its authority replaces Host.
      let url: URL | undefined;
      try {
        url = /^https?:\/\//i.test(target) ? new URL(target) : undefined;
      } catch {
        url = undefined;
      }
      if (!url) return refuse(req, res, 400, 'invalid_request', 'the request target must be a path starting with / (or an absolute http URL)');
      authority = url.host;
    }
    if (authority === undefined) {
      // RFC 9112 §3.2: Host is required in HTTP/1.1; HTTP/1.0 clients may leave it out.
      if (req.httpVersionMajor === 1 && req.httpVersionMinor === 0) {
        req.headers.host = o.ownAuthority();
        return false;
      }
      return refuse(req, res, 400, 'invalid_request', 'the Host header is missing (HTTP/1.1 requires it)');
    }
    const m = HOST.exec(authority);
    if (!m || (m[2] !== undefined && Number(m[2]) > 65535)) return refuse(req, res, 400, 'invalid_request', 'the Host header is not a valid host[:port]');
    const name = m[1]!.toLowerCase();
    if (checkHost && !loopbackHostAllowed(name, o.allowedHosts)) {
      const shown = name.slice(0, 100);
      return refuse(
        req, res, 403, 'forbidden',
        `Host "${shown}" is not answered: this server listens on ${o.listenHost} and answers only localhost names and IP addresses (DNS-rebinding guard); allow the name with --allowed-hosts ${shown}`,
      );
    }
    return false;
  };
}
