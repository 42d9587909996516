// The request sink page of `serve --dev` (GET /sink, /sink/:name; api.md §15): the sinks, and
// one sink's requests newest first with headers, body and the signature check, live.
import type { SinkRequest } from '../../shared/dev.js';
import { formatTime } from '../format.js';
import { Notice } from '../layout.js';

export interface SinkSummary {
  name: string;
  count: number;
  lastAt: string | null;
}

export type SinkProps = { kind: 'off' } | { kind: 'error'; error: string } | { kind: 'list'; sinks: SinkSummary[]; name?: string; requests: SinkRequest[]; origin: string };

function Signature({ verified }: { verified: boolean | null }) {
  if (verified === null) return <span class="muted">unsigned</span>;
  return <span class={`badge s-${verified ? 'completed' : 'failed'}`}>{verified ? 'signature verified' : 'signature invalid'}</span>;
}

function Request({ r }: { r: SinkRequest }) {
  return (
    <article class="sink-request" aria-label={`Request ${r.id}`}>
      <h3>
        <span class="method">{r.method}</span> <span class="mono">{`/_sink/${r.sink}${r.path}`}</span> <Signature verified={r.signatureVerified} />{' '}
        <span class="muted">
          → {r.answer.status}
          {r.answer.delayMs > 0 ? ` after ${r.answer.delayMs / 1000} s` : ''} · <time datetime={r.receivedAt}>{formatTime(r.receivedAt)}</time>
        </span>
      </h3>
      <details>
        <summary>{`${Object.keys(r.headers).length} headers`}</summary>
        <table class="kv">
          <tbody>
            {Object.entries(r.headers).map(([k, v]) => (
              <tr>
                <th scope="row" class="mono">
                  {k}
                </th>
                <td class="mono">{v}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
      <pre class="payload">{r.json !== null ? JSON.stringify(r.json, null, 2) : r.body || '(empty body)'}</pre>
      {r.truncated && <p class="muted">The body was longer than the sink keeps; this is its start.</p>}
    </article>
  );
}

export function SinkPage(props: SinkProps) {
  return (
    <>
      <h1>Request sink</h1>
      <section id="r-sink" data-region aria-label="Sink requests">
        {props.kind === 'off' ? (
          <Notice kind="empty">The request sink exists only with serve --dev.</Notice>
        ) : props.kind === 'error' ? (
          <Notice kind="error">{props.error}</Notice>
        ) : (
          <>
            <p>
              Point a task's targetUrl or webhookUrl at <code>{`${props.origin}/_sink/<name>`}</code>; add <code>?status=503</code>, <code>?delay=2</code> or{' '}
              <code>?body=…</code> to script the answer.
            </p>
            {props.sinks.length === 0 ? (
              <Notice kind="empty">No requests yet.</Notice>
            ) : (
              <nav aria-label="Sinks">
                <ul class="chips">
                  {props.sinks.map((s) => (
                    <li>
                      <a href={`/sink/${encodeURIComponent(s.name)}`} aria-current={s.name === props.name ? 'page' : undefined}>
                        {`${s.name} (${s.count})`}
                      </a>
                    </li>
                  ))}
                </ul>
              </nav>
            )}
            {props.name !== undefined && (
              <>
                <h2>{props.name}</h2>
                {props.requests.length === 0 ? (
                  <Notice kind="empty">{`No requests to /_sink/${props.name} yet.`}</Notice>
                ) : (
                  [...props.requests].reverse().map((r) => <Request r={r} />)
                )}
              </>
            )}
          </>
        )}
      </section>
    </>
  );
}
