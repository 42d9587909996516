// A webhook's delivery history with its re-deliver button (api.md §16), shown the same way for a
// task's outcome webhook (task page) and a batch's batch.done (batch page, api.md §13).
import type { Delivery, TaskError } from '../../shared/types.js';
import { formatDuration, formatTime, relative } from '../format.js';
import { DataTable, Notice } from '../layout.js';

export function ErrorText({ error }: { error: TaskError | null | undefined }) {
  if (!error) return <span class="muted">none</span>;
  return (
    <span class="err">
      <strong>{error.type}</strong>: {error.message}
    </span>
  );
}

export interface DeliveriesProps {
  /** The task or batch id: webhook-id is `<ownerId>.<outcome>`. */
  ownerId: string;
  /** Its API path; the button POSTs to `<path>/redeliver`. */
  path: string;
  canRedeliver: boolean;
  /** A delivery is due or in flight: re-read the page each second until it settles. */
  sending: boolean;
  deliveries: Delivery[];
  now: number;
  /** Set to make the section a live region of its own (a page whose other regions do not hold it). */
  regionId?: string;
}

export function Deliveries({ ownerId, path, canRedeliver, sending, deliveries, now, regionId }: DeliveriesProps) {
  return (
    // Webhook progress is not a task state change, so no event announces it: while a delivery is
    // due or in flight the script re-reads the page every second (data-poll) until it settles.
    <section id={regionId} data-region={regionId ? true : undefined} aria-labelledby="h-deliveries" data-poll={sending ? '1000' : undefined}>
      <h2 id="h-deliveries">Webhook deliveries</h2>
      {canRedeliver && (
        <div class="actions" role="group" aria-label="Webhook actions">
          <button type="button" data-api-method="POST" data-api-path={`${path}/redeliver`}>
            Re-deliver
          </button>
        </div>
      )}
      {deliveries.length === 0 ? (
        <Notice kind="empty">No delivery yet.</Notice>
      ) : (
        <DataTable class="deliveries" caption="Every webhook delivery attempt, oldest first" columns={['webhook-id', { num: 'Attempt' }, 'Started', 'Duration', 'Answer']}>
          {deliveries.map((d) => (
            <tr>
              <td class="mono">{`${ownerId}.${d.outcome}`}</td>
              <td class="num">{d.attempt}</td>
              <td>
                <time datetime={d.startedAt} title={relative(d.startedAt, now)}>
                  {formatTime(d.startedAt)}
                </time>
              </td>
              <td>{d.durationMs === null ? 'in flight' : formatDuration(d.durationMs)}</td>
              <td>{d.error ? <ErrorText error={d.error} /> : d.status !== undefined ? `HTTP ${d.status}` : '—'}</td>
            </tr>
          ))}
        </DataTable>
      )}
    </section>
  );
}
