// The login form shown when the server has a token: one password field, posted to /login,
// which sets the session cookie (session.ts). The token never reaches the page's script.

export function Login({ next, error }: { next: string; error?: string }) {
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
