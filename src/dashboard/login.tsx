// The login form and the login/logout routes: POST /login checks the token and sets the HttpOnly, SameSite=Strict
// session cookie (a session id and an HMAC, see session.ts); POST /logout ends the session in the
// store and clears the cookie. Both refuse cross-site posts.
import type { Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { tokenChecker } from '../api/auth.js';
import type { DashboardContext } from './context.js';
import { Page } from './layout.js';
import { readCookie, sameOrigin, sessionCookie } from './session.js';

const BASE = 'http://dashboard.invalid';

/**
 * Where to go after signing in: `next` as the WHATWG URL parser resolves it against this site,
 * if it stays on this site (browsers drop tabs and newlines and read "\\" as "/", so a plain
 * prefix check is not enough), serialized back by the parser; else "/".
 */
export function safeNext(next: unknown): string {
  // Control characters and backslashes have no place in a path we link to: refused outright.
  // eslint-disable-next-line no-control-regex
  if (typeof next !== 'string' || next.length > 2000 || !next.startsWith('/') || /[\x00-\x1f\x7f\\]/.test(next)) return '/';
  let url: URL;
  try {
    url = new URL(next, BASE);
  } catch {
    return '/';
  }
  if (url.origin !== BASE) return '/';
  const path = url.pathname + url.search + url.hash;
  // "/a/..//evil.example" resolves to the path "//evil.example": same origin for the parser,
  // but a Location starting with "//" is another host for the browser.
  return path.startsWith('//') ? '/' : path;
}

function Login({ next, error }: { next: string; error?: string }) {
  return (
    <section class="login" aria-labelledby="h-login">
      <h1 id="h-login">Sign in</h1>
      <p>This server needs its token (--token / AQ_TOKEN) to show tasks.</p>
      {error && (
        <p class="notice error" role="alert" id="login-error">
          {error}
        </p>
      )}
      <form method="post" action="/login">
        <input type="hidden" name="next" value={next} />
        <label for="token">Token</label>
        <input id="token" name="token" type="password" required autocomplete="current-password" autofocus aria-describedby={error ? 'login-error' : undefined} />
        <button type="submit">Sign in</button>
      </form>
    </section>
  );
}

export function registerLogin(app: Hono<any, any, any>, ctx: DashboardContext): void {
  const { opts, sessions } = ctx;
  const checkToken = tokenChecker(opts.tokens);
  // A refused token re-renders the form with 200: a 401 document would only add console noise.
  const page = (c: Context, next: string, error?: string) =>
    ctx.send(
      c,
      <Page shell={ctx.shell} title="Sign in" section="login">
        <Login next={next} error={error} />
      </Page>,
    );
  const refuse = (c: Context) => ctx.send(c, <Page shell={ctx.shell} title="Refused" section="error"><p class="notice error" role="alert">Refused: this form must be sent from the dashboard itself.</p></Page>, 403);

  app.get('/login', async (c) => {
    const next = safeNext(c.req.query('next'));
    if (await ctx.signedIn(c)) return c.redirect(next, 303);
    return page(c, next);
  });

  app.post(
    '/login',
    bodyLimit({ maxSize: 16 * 1024, onError: (c) => c.text('login form too large', 413) }),
    async (c) => {
      if (!sameOrigin(c)) return refuse(c);
      const form = await c.req.parseBody();
      const next = safeNext(form.next);
      const token = typeof form.token === 'string' ? form.token.trim() : '';
      if (opts.tokens.length === 0) return c.redirect(next, 303);
      if (!token || !checkToken(token)) {
        opts.log.warn('dashboard login refused: wrong token', { ip: c.req.header('x-forwarded-for') });
        return page(c, next, 'That token is not valid for this server.');
      }
      c.header('Set-Cookie', sessionCookie(c, sessions.issue(token, opts.clock.now()), sessions.maxAgeSeconds));
      c.header('Cache-Control', 'no-store');
      return c.redirect(next, 303);
    },
  );

  app.post('/logout', async (c) => {
    if (!sameOrigin(c)) return refuse(c);
    // Ended in the store, not only cleared in this browser: a copy of the cookie stops working too.
    await sessions.revoke(readCookie(c.req.header('cookie')), opts.clock.now());
    c.header('Set-Cookie', sessionCookie(c, '', 0));
    c.header('Cache-Control', 'no-store');
    return c.redirect('/login', 303);
  });
}
