// One batch (GET /batches/:id, api.md §13): its progress, its counts by state, its batch.done
// webhook with its delivery history and re-deliver button (api.md §16), and its first page of
// members, newest first. Live updates come from the script
// re-reading the page's regions on each SSE event (members change; the batch row follows):
// the title's done badge is inside the progress region, so it turns with the counts.
import type { Batch, Delivery, Task } from '../../shared/types.js';
import { TASK_STATUSES } from '../../shared/types.js';
import { formatTime, query, relative } from '../format.js';
import { Badge, Notice } from '../layout.js';
import { Deliveries } from './deliveries.js';
import { TaskTable } from './tasks.js';

export interface BatchProps {
  batch: Batch;
  tasks: Task[];
  nextCursor: string | null;
  /** The batch.done webhook's delivery attempts, oldest first. */
  deliveries?: Delivery[];
  now: number;
}

export function BatchPage({ batch: b, tasks, nextCursor, deliveries = [], now }: BatchProps) {
  const ended = b.counts.completed + b.counts.failed + b.counts.cancelled;
  const pct = b.total === 0 ? 100 : Math.floor((ended / b.total) * 100);
  return (
    <>
      <section id="r-batch" data-region aria-labelledby="h-batch">
        <h1 id="h-batch">
          Batch <span class="mono">{b.id}</span> {b.done ? <Badge status="completed" /> : <Badge status="running" />}
        </h1>
        <p>
          <progress id="batch-progress" max={b.total} value={ended}>
            {`${pct}%`}
          </progress>{' '}
          <span id="batch-ended">{`${ended} of ${b.total} ended (${pct}%)`}</span>
          {b.done && b.doneAt && <span class="muted">{` — done ${relative(b.doneAt, now)}`}</span>}
        </p>
        <dl class="props" id="batch-counts">
          {TASK_STATUSES.map((s) => (
            <>
              <dt>
                <a href={`/tasks${query({ batch: b.id, status: s })}`}>{s}</a>
              </dt>
              <dd data-count={s}>{b.counts[s]}</dd>
            </>
          ))}
          <dt>Created</dt>
          <dd>
            <time datetime={b.createdAt} title={relative(b.createdAt, now)}>
              {formatTime(b.createdAt)}
            </time>
          </dd>
          {b.labels.length > 0 && <dt>Labels</dt>}
          {b.labels.length > 0 && <dd>{b.labels.join(', ')}</dd>}
          <dt>Webhook</dt>
          <dd>
            {b.webhookUrl === null ? (
              <span class="muted">none</span>
            ) : (
              <>
                <span class="break">{b.webhookUrl}</span>{' '}
                {b.webhook ? <span>{`(${b.webhook.status}, ${b.webhook.attempts} attempt${b.webhook.attempts === 1 ? '' : 's'})`}</span> : <span class="muted">(not done yet)</span>}
              </>
            )}
          </dd>
        </dl>
        {b.counts.failed + b.counts.cancelled > 0 && (
          <div class="actions" role="group" aria-label="Batch actions">
            <button type="button" data-api-method="POST" data-api-path="/v1/tasks/retry" data-api-body={JSON.stringify({ batch: b.id, status: 'failed' })}>
              Retry failed tasks
            </button>
          </div>
        )}
      </section>
      {b.webhookUrl !== null && (
        <Deliveries
          regionId="r-deliveries"
          ownerId={b.id}
          path={`/v1/batches/${encodeURIComponent(b.id)}`}
          canRedeliver={b.done && b.webhook !== null}
          sending={b.webhook?.status === 'pending'}
          deliveries={deliveries}
          now={now}
        />
      )}
      <section id="r-members" data-region aria-label="Tasks of the batch, newest first">
        <h2>Tasks</h2>
        {tasks.length === 0 ? (
          <Notice kind="empty">No tasks left in this batch (deleted or purged by --retention).</Notice>
        ) : (
          <TaskTable tasks={tasks} now={now} caption="Tasks of the batch, newest first" />
        )}
        {nextCursor && (
          <nav class="pager" aria-label="Pages">
            <a rel="next" href={`/tasks${query({ batch: b.id, cursor: nextCursor })}`}>
              More tasks »
            </a>
          </nav>
        )}
      </section>
    </>
  );
}
