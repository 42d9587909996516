// The dashboard's login session: a cookie holding a random session id, an expiry and an HMAC of
// both keyed by the server's token (never the token itself); logout records the id as ended in
// the store, so every node sharing the database refuses it. Also the same-origin check that
// guards every cookie-authenticated request that changes something. Bearer auth is api/auth.ts.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';
import type { Store } from '../store/store.js';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'aq_session';
/** Default session lifetime: 7 days, in seconds. */
export const DEFAULT_SESSION_SECONDS = 7 * 24 * 3600;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function mac(token: string, id: string, expires: number): Buffer {
  return createHmac('sha256', token).update(`asyncqueue-dashboard-session:${id}:${expires}`).digest();
}

/** What sessions need of the store: ended sessions, shared by every node. */
export type SessionStore = Pick<Store, 'revokeSession' | 'isSessionRevoked'>;

export interface Session {
  /** Random id (128 bits, base64url). */
  id: string;
  /** Expiry, in seconds since the epoch. */
  expires: number;
}

export interface Sessions {
  /** A cookie value for a new session of `token`, valid `maxAgeSeconds` from `now` (ms). */
  issue(token: string, now: number): string;
  /** The session `value` names when it was issued for a current token and has not expired (the store is not asked). */
  parse(value: string | undefined, now: number): Session | undefined;
  /** True when `value` names a live session: issued for a current token, not expired, not ended by logout. */
  valid(value: string | undefined, now: number): Promise<boolean>;
  /** Ends the session `value` names (logout), on every node; a value that names none is ignored. */
  revoke(value: string | undefined, now: number): Promise<void>;
  maxAgeSeconds: number;
}

/** Sessions keyed by `tokens` (rotation: a cookie made with any current token is valid), ended ones in `store`. */
export function createSessions(tokens: string[], store: SessionStore, maxAgeSeconds = DEFAULT_SESSION_SECONDS): Sessions {
  const parse = (value: string | undefined, now: number): Session | undefined => {
    const m = value ? /^(\d{1,12})\.([A-Za-z0-9_-]{22})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
    if (!m) return undefined;
    const expires = Number(m[1]);
    const id = m[2]!;
    const nowSeconds = Math.floor(now / 1000);
    if (expires <= nowSeconds || expires > nowSeconds + maxAgeSeconds) return undefined;
    const given = Buffer.from(m[3]!, 'base64url');
    let ok = false;
    for (const t of tokens) if (timingSafeEqual(mac(t, id, expires), given)) ok = true;
    return ok ? { id, expires } : undefined;
  };
  return {
    maxAgeSeconds,
    issue(token, now) {
      const expires = Math.floor(now / 1000) + maxAgeSeconds;
      const id = randomBytes(16).toString('base64url');
      return `${expires}.${id}.${mac(token, id, expires).toString('base64url')}`;
    },
    parse,
    async valid(value, now) {
      const session = parse(value, now);
      return session !== undefined && !(await store.isSessionRevoked(session.id));
    },
    async revoke(value, now) {
      const session = parse(value, now);
      if (session) await store.revokeSession(session.id, session.expires * 1000, now);
    },
  };
}

/** The value of cookie `name` in a Cookie header, if present. */
export function readCookie(header: string | undefined, name = SESSION_COOKIE): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** True when the request was served over TLS (directly or behind a proxy that says so). */
function secure(c: Context): boolean {
  return new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';
}

/** A Set-Cookie value: HttpOnly, SameSite=Strict, Path=/, Secure over https. Empty value + maxAge 0 clears it. */
export function sessionCookie(c: Context, value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure(c) ? '; Secure' : ''}`;
}

/**
 * True when the request comes from a page of this same origin: `Sec-Fetch-Site: same-origin`
 * when the browser sends it (all current ones do), else an `Origin` whose host is this server's.
 * A request with neither is refused: only browsers carry the cookie, and they send one of them.
 */
export function sameOrigin(c: Context): boolean {
  const site = c.req.header('sec-fetch-site');
  if (site) return site === 'same-origin';
  const origin = c.req.header('origin');
  if (!origin || origin === 'null') return false;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  return host === c.req.header('host') || host === c.req.header('x-forwarded-host');
}

/**
 * The `extras.authenticate` hook of createApp: a live session cookie lets a /v1 request
 * through; for anything but GET/HEAD/OPTIONS only when it is same-origin (CSRF guard).
 */
export function cookieAuthenticator(sessions: Sessions, now: () => number): (c: Context) => Promise<boolean> {
  return async (c) => {
    if (!(await sessions.valid(readCookie(c.req.header('cookie')), now()))) return false;
    return SAFE_METHODS.has(c.req.method) || sameOrigin(c);
  };
}
