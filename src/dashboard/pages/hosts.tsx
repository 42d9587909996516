// The hosts page (GET /hosts, api.md §12): each target origin this node dispatches to, with its
// circuit, limit, attempts in flight and recent failures, and a button that closes a circuit
// (POST /v1/hosts/reset). Breaker state is per node: the page shows the answering node's.
import type { Host } from '../../shared/types.js';
import { formatTime, relative } from '../format.js';
import { DataTable, Notice } from '../layout.js';

export type HostsProps = { now: number } & ({ kind: 'list'; hosts: Host[] } | { kind: 'error'; error: string });

function Row({ h, now }: { h: Host; now: number }) {
  const until = h.openUntil ?? h.notBefore;
  return (
    <tr>
      <th scope="row" class="mono break">{h.origin}</th>
      <td>
        <span class={`badge s-${h.state === 'closed' ? 'completed' : h.state === 'open' ? 'failed' : 'running'}`}>{h.state.replace('_', ' ')}</span>
      </td>
      <td class="num">{h.inFlight}</td>
      <td class="num">{h.limit ?? '—'}</td>
      <td class="num">{h.consecutiveFailures}</td>
      <td>{until ? <time datetime={until} title={formatTime(until)}>{relative(until, now)}</time> : '—'}</td>
      <td>
        {h.recentFailures.length === 0 ? (
          '—'
        ) : (
          <ul class="plain">
            {h.recentFailures.map((f) => (
              <li>
                <time datetime={f.at} title={formatTime(f.at)}>{relative(f.at, now)}</time> {f.error}
              </li>
            ))}
          </ul>
        )}
      </td>
      <td class="actions">
        {(h.state !== 'closed' || h.limit !== null || h.notBefore !== null) && (
          <button type="button" data-api-method="POST" data-api-path="/v1/hosts/reset" data-api-body={JSON.stringify({ origin: h.origin })} aria-label={`Reset ${h.origin}`}>
            Reset
          </button>
        )}
      </td>
    </tr>
  );
}

export function Hosts(p: HostsProps) {
  return (
    <>
      <h1>Hosts</h1>
      <p>
        Every origin this node dispatched to since it started (at most 1,000): its circuit breaker, its limit after 429/503 answers, attempts in flight
        and its last failures. Tasks of an open circuit wait without spending retries.
      </p>
      {p.kind === 'error' ? (
        <Notice kind="error">{p.error}</Notice>
      ) : p.hosts.length === 0 ? (
        <Notice kind="empty">No origins yet: an origin is listed once a task or webhook is sent to it.</Notice>
      ) : (
        <DataTable class="hosts" region="r-hosts" caption="Target origins: circuit, limit, in flight, failures"
          columns={['Origin', 'Circuit', { num: 'In flight' }, { num: 'Limit' }, { num: 'Failures in a row' }, 'Until', 'Recent failures', { actions: true }]}>
          {p.hosts.map((h) => (
            <Row h={h} now={p.now} />
          ))}
        </DataTable>
      )}
    </>
  );
}
