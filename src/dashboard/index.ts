// The web dashboard served at `/` by the API's own Hono app: createDashboard() gives the
// cookie check for createApp's `extras.authenticate` and registers the pages, login/logout
// and static assets. Pages are rendered on the server (pages/*.tsx); assets/app.js adds
// actions and live updates. Reads go through the public API in-process (api.ts).
import type { Context, Hono } from 'hono';
import { bearer, tokenChecker } from '../api/auth.js';
import { loadAssets } from './assets.js';
import { isLoopback } from './format.js';
import { registerLogin } from './login.js';
import type { DashboardContext, DashboardOptions } from './context.js';
import { registerPages } from './routes.js';
import { cookieAuthenticator, createSessions, readCookie } from './session.js';

export type { DashboardContext, DashboardOptions } from './context.js';

export interface Dashboard {
  /** For createApp's `extras.authenticate`: accepts a valid session cookie (same-origin for writes). */
  authenticate: (c: Context) => Promise<boolean>;
  /** Adds the dashboard's routes (/, /tasks, /tasks/:id, /schedules, /login, /logout, /assets/*) to `app`. */
  register(app: Hono<any, any, any>): void;
}

/** Content-Security-Policy of every page: this origin only, no inline script or style. */
export const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function createDashboard(opts: DashboardOptions): Dashboard {
  const sessions = createSessions(opts.tokens, opts.store, opts.sessionSeconds);
  const checkToken = tokenChecker(opts.tokens);
  const warning =
    opts.tokens.length === 0 && !isLoopback(opts.host)
      ? `This server listens on ${opts.host} without a token: anyone who can reach it can read, change and delete tasks. Restart it with --token (AQ_TOKEN) or --host 127.0.0.1.`
      : undefined;
  const ctx: DashboardContext = {
    opts,
    sessions,
    shell: { version: opts.version, warning, canLogout: opts.tokens.length > 0, dev: opts.dev },
    async signedIn(c) {
      if (opts.tokens.length === 0) return true;
      if (await sessions.valid(readCookie(c.req.header('cookie')), opts.clock.now())) return true;
      const given = bearer(c.req.header('authorization'));
      return given !== undefined && checkToken(given);
    },
    async send(c, page, status = 200) {
      securityHeaders(c);
      const html = '<!doctype html>' + (await page).toString();
      return c.html(html, status as 200);
    },
  };
  return {
    authenticate: cookieAuthenticator(sessions, () => opts.clock.now()),
    register(app) {
      registerAssets(app, opts.assetsDir);
      registerLogin(app, ctx);
      registerPages(app, ctx);
    },
  };
}

/** Headers of every dashboard HTML answer. */
export function securityHeaders(c: Context): void {
  c.header('Content-Security-Policy', CSP);
  c.header('X-Content-Type-Options', 'nosniff');
  c.header('X-Frame-Options', 'DENY');
  c.header('Referrer-Policy', 'same-origin');
  c.header('Cache-Control', 'no-store');
}

function registerAssets(app: Hono<any, any, any>, dir?: string): void {
  const assets = loadAssets(dir);
  app.get('/assets/:name', (c) => {
    const asset = assets.get(c.req.param('name'));
    if (!asset) return c.text('not found', 404);
    c.header('X-Content-Type-Options', 'nosniff');
    c.header('Cache-Control', 'no-cache');
    c.header('ETag', asset.etag);
    if (c.req.header('if-none-match') === asset.etag) return c.body(null, 304);
    c.header('Content-Type', asset.type);
    return c.body(asset.body as Uint8Array<ArrayBuffer>);
  });
}
