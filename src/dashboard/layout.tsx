// The page shell every dashboard page shares: head (CSS, the one script, no inline code),
// skip link, navigation, the exposure warning, the live-status and message regions.
import type { Child } from 'hono/jsx';
import type { TaskStatus } from '../shared/types.js';

export type Section = 'overview' | 'tasks' | 'schedules' | 'hosts' | 'sink' | 'login' | 'error';

/** What the shell needs to know about the server and the viewer. */
export interface Shell {
  version: string;
  /** Shown on every page when set (e.g. a non-loopback host without a token). */
  warning?: string;
  /** Whether a Log out button belongs in the header (the server has tokens). */
  canLogout: boolean;
  /** `serve --dev`: the Sink page is in the navigation. */
  dev?: boolean;
}

export interface PageProps {
  shell: Shell;
  title: string;
  section: Section;
  /** SSE URL the script subscribes to; each event refreshes the page's [data-region]s. */
  events?: string;
  children?: Child;
}

const NAV: [Section, string, string][] = [
  ['overview', '/', 'Overview'],
  ['tasks', '/tasks', 'Tasks'],
  ['schedules', '/schedules', 'Schedules'],
  ['hosts', '/hosts', 'Hosts'],
];

export function Page({ shell, title, section, events, children }: PageProps) {
  const v = encodeURIComponent(shell.version);
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="same-origin" />
        <title>{`${title} · AsyncQueue`}</title>
        <link rel="icon" href={`/assets/favicon.svg?v=${v}`} type="image/svg+xml" />
        <link rel="stylesheet" href={`/assets/app.css?v=${v}`} />
        <script type="module" src={`/assets/app.js?v=${v}`}></script>
      </head>
      <body data-events={events}>
        <a class="skip" href="#main">
          Skip to content
        </a>
        <header class="top">
          <a class="brand" href="/">
            AsyncQueue
          </a>
          {section !== 'login' && (
            <nav aria-label="Main">
              <ul>
                {(shell.dev ? [...NAV, ['sink', '/sink', 'Sink'] as [Section, string, string]] : NAV).map(([key, href, label]) => (
                  <li>
                    <a href={href} aria-current={key === section ? 'page' : undefined}>
                      {label}
                    </a>
                  </li>
                ))}
              </ul>
            </nav>
          )}
          <span class="live" id="live" hidden={!events} role="status" aria-live="polite">
            connecting…
          </span>
          {shell.canLogout && section !== 'login' && (
            <form method="post" action="/logout" class="logout">
              <button type="submit" class="link">
                Log out
              </button>
            </form>
          )}
        </header>
        {shell.warning && (
          <p class="banner" role="alert">
            {shell.warning}
          </p>
        )}
        <main id="main" tabindex={-1}>
          {children}
        </main>
        <p id="toast" class="toast" role="status" aria-live="polite"></p>
        <footer>
          AsyncQueue {shell.version} · <a href="/openapi.json">API</a>
        </footer>
      </body>
    </html>
  );
}

/** A state badge: the word plus a color, never color alone. */
export function Badge({ status }: { status: TaskStatus | string }) {
  return <span class={`badge s-${status}`}>{status}</span>;
}

/** An error or empty-state box. */
export function Notice({ kind, children }: { kind: 'error' | 'empty'; children?: Child }) {
  return (
    <div class={`notice ${kind}`} role={kind === 'error' ? 'alert' : undefined}>
      {children}
    </div>
  );
}

/** A head cell of a DataTable: its label, or `num` (a right-aligned count) or `actions` (a column of buttons, named for screen readers only). */
export type Column = string | { num: string } | { actions: true };

/**
 * A table in the dashboard's one form: it scrolls sideways in its `table-wrap` (`region`: the
 * live region's id), its caption is for screen readers, one row of column heads; `children`
 * are the rows of its body.
 */
export function DataTable({ class: cls, caption, columns, region, children }: { class?: string; caption: string; columns: Column[]; region?: string; children?: Child }) {
  return (
    <div class="table-wrap" id={region} data-region={region ? true : undefined}>
      <table class={cls}>
        <caption class="sr-only">{caption}</caption>
        <thead>
          <tr>
            {columns.map((c) =>
              typeof c === 'string' ? (
                <th scope="col">{c}</th>
              ) : 'num' in c ? (
                <th scope="col" class="num">{c.num}</th>
              ) : (
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              ),
            )}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
