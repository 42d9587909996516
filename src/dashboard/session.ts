// The dashboard's login session: a cookie holding an expiry and an HMAC of it keyed by the
// server's token (never the token itself), and the same-origin check that guards every
// cookie-authenticated request that changes something. Bearer auth stays in api/auth.ts.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Context } from 'hono';

/** Name of the session cookie. */
export const SESSION_COOKIE = 'aq_session';
/** Default session lifetime: 7 days, in seconds. */
export const DEFAULT_SESSION_SECONDS = 7 * 24 * 3600;

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

function mac(token: string, expires: number): Buffer {
  return createHmac('sha256', token).update(`asyncqueue-dashboard-session:${expires}`).digest();
}

export interface Sessions {
  /** A cookie value for `token`, valid `maxAgeSeconds` from `now` (ms). */
  issue(token: string, now: number): string;
  /** True when `value` was issued for one of the server's current tokens and has not expired. */
  valid(value: string | undefined, now: number): boolean;
  maxAgeSeconds: number;
}

/** Sessions keyed by `tokens` (rotation: a cookie made with any current token is valid). */
export function createSessions(tokens: string[], maxAgeSeconds = DEFAULT_SESSION_SECONDS): Sessions {
  return {
    maxAgeSeconds,
    issue(token, now) {
      const expires = Math.floor(now / 1000) + maxAgeSeconds;
      return `${expires}.${mac(token, expires).toString('base64url')}`;
    },
    valid(value, now) {
      const m = value ? /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(value) : null;
      if (!m) return false;
      const expires = Number(m[1]);
      const nowSeconds = Math.floor(now / 1000);
      if (expires <= nowSeconds || expires > nowSeconds + maxAgeSeconds) return false;
      const given = Buffer.from(m[2]!, 'base64url');
      let ok = false;
      for (const t of tokens) if (timingSafeEqual(mac(t, expires), given)) ok = true;
      return ok;
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
 * The `extras.authenticate` hook of createApp: a valid session cookie lets a /v1 request
 * through; for anything but GET/HEAD/OPTIONS only when it is same-origin (CSRF guard).
 */
export function cookieAuthenticator(sessions: Sessions, now: () => number): (c: Context) => boolean {
  return (c) => {
    if (!sessions.valid(readCookie(c.req.header('cookie')), now())) return false;
    return SAFE_METHODS.has(c.req.method) || sameOrigin(c);
  };
}
