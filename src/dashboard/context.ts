// What the dashboard's modules share: its options and the context the route modules get
// (kept apart from index.ts so the route modules do not import the module that imports them).
import type { Context } from 'hono';
import type { JSX } from 'hono/jsx/jsx-runtime';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { Shell } from './layout.js';
import type { Sessions, SessionStore } from './session.js';

export interface DashboardOptions {
  /** The server's bearer tokens (config.tokens); with none, pages need no login. */
  tokens: string[];
  /** The interface the server listens on (config.host); a non-loopback one without a token shows a warning. */
  host: string;
  version: string;
  clock: Clock;
  log: Logger;
  /** `serve --dev`: show the request sink page in the navigation. */
  dev?: boolean;
  /** Where logouts are recorded (the server's store), so that every node ends the session. */
  store: SessionStore;
  /** Login session lifetime in seconds (default 7 days). */
  sessionSeconds?: number;
  /** Folder of the static files (default ./assets beside this module). */
  assetsDir?: string;
}

/** What the route modules share. */
export interface DashboardContext {
  opts: DashboardOptions;
  sessions: Sessions;
  shell: Shell;
  /** True when the request may see task data (no tokens, a valid session cookie, or a bearer token). */
  signedIn(c: Context): Promise<boolean>;
  /** Sends a rendered page with the dashboard's security headers. */
  send(c: Context, page: JSX.Element, status?: number): Promise<Response>;
}
