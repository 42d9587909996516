// One task (GET /tasks/:id): its fields, payload and result pretty-printed, last error,
// attempts as a timeline, webhook delivery, and the retry / cancel / delete actions.
// Credential-like header values are masked (format.ts).
import type { Attempt, Task, TaskError } from '../../shared/types.js';
import { formatDuration, formatTime, maskHeaders, prettyJson, relative } from '../format.js';
import { Badge, Notice } from '../layout.js';

function ErrorText({ error }: { error: TaskError | null | undefined }) {
  if (!error) return <span class="muted">none</span>;
  return (
    <span class="err">
      <strong>{error.type}</strong>: {error.message}
    </span>
  );
}

function Actions({ task }: { task: Task }) {
  const path = `/v1/tasks/${encodeURIComponent(task.id)}`;
  const live = task.status === 'pending' || task.status === 'running';
  return (
    <div class="actions" role="group" aria-label="Task actions">
      {(task.status === 'failed' || task.status === 'cancelled') && (
        <button type="button" data-api-method="POST" data-api-path={`${path}/retry`}>
          Retry
        </button>
      )}
      {live && (
        <button type="button" data-api-method="POST" data-api-path={`${path}/cancel`}>
          Cancel
        </button>
      )}
      <button type="button" class="danger" data-api-method="DELETE" data-api-path={path} data-confirm={`Delete task ${task.id}? Its attempts are deleted too; this cannot be undone.`} data-done="/tasks">
        Delete…
      </button>
    </div>
  );
}

function Timeline({ attempts, now }: { attempts: Attempt[]; now: number }) {
  if (attempts.length === 0) return <Notice kind="empty">No attempts yet.</Notice>;
  return (
    <ol class="timeline">
      {attempts.map((a) => {
        const ok = a.status !== undefined && a.status >= 200 && a.status < 300 && !a.error;
        const state = a.durationMs === null ? 'running' : ok ? 'ok' : 'bad';
        return (
          <li class={`t-${state}`}>
            <span class="dot" aria-hidden="true"></span>
            <span class="n">Attempt {a.n}</span>
            <time datetime={a.startedAt} title={relative(a.startedAt, now)}>
              {formatTime(a.startedAt)}
            </time>
            <span class="dur">{formatDuration(a.durationMs)}</span>
            <span class="outcome">
              {a.error ? <ErrorText error={a.error} /> : a.status !== undefined ? `HTTP ${a.status}` : a.durationMs === null ? 'in flight' : '—'}
            </span>
          </li>
        );
      })}
    </ol>
  );
}

function Json({ label, value }: { label: string; value: unknown }) {
  return (
    <section aria-label={label}>
      <h2>{label}</h2>
      <pre class="json" tabindex={0}>
        <code>{prettyJson(value)}</code>
      </pre>
    </section>
  );
}

export function TaskDetail({ task: t, attempts, now }: { task: Task; attempts: Attempt[]; now: number }) {
  const headers = maskHeaders(t.headers);
  return (
    <section id="r-task" data-region aria-labelledby="h-task">
      <p class="crumbs">
        <a href="/tasks">Tasks</a> / <span class="mono">{t.id}</span>
      </p>
      <div class="title-row">
        <h1 id="h-task">
          Task <span class="mono">{t.id}</span>
        </h1>
        <Badge status={t.status} />
      </div>
      <Actions task={t} />
      <div class="grid2">
        <dl class="props">
          <dt>Target</dt>
          <dd class="break">
            <span class="method">{t.method}</span> {t.targetUrl}
          </dd>
          <dt>Queue</dt>
          <dd>
            <a href={`/tasks?queue=${encodeURIComponent(t.queue)}`}>{t.queue}</a>
          </dd>
          <dt>Priority</dt>
          <dd>{t.priority}</dd>
          <dt>Attempts</dt>
          <dd>
            {t.attempts} (retries allowed: {t.retries}, timeout {t.timeout} s)
          </dd>
          <dt>Run at</dt>
          <dd>{formatTime(t.runAt)}</dd>
          <dt>Created</dt>
          <dd>
            {formatTime(t.createdAt)} <span class="muted">{relative(t.createdAt, now)}</span>
          </dd>
          <dt>Completed</dt>
          <dd>{formatTime(t.completedAt)}</dd>
          {t.labels.length > 0 && <dt>Labels</dt>}
          {t.labels.length > 0 && <dd>{t.labels.join(', ')}</dd>}
          {t.idempotencyKey && <dt>Idempotency key</dt>}
          {t.idempotencyKey && <dd class="break">{t.idempotencyKey}</dd>}
          {t.scheduleId && <dt>Schedule</dt>}
          {t.scheduleId && <dd class="mono">{t.scheduleId}</dd>}
        </dl>
        <div>
          <h2>Last error</h2>
          <p>
            <ErrorText error={t.error} />
          </p>
          <h2>Webhook</h2>
          {t.webhookUrl ? (
            <p class="break">
              {t.webhook ? <Badge status={t.webhook.status} /> : <span class="badge">not yet due</span>} {t.webhookUrl}
              {t.webhook && ` · ${t.webhook.attempts} deliveries tried`}
              {t.webhook?.error && (
                <>
                  <br />
                  <ErrorText error={t.webhook.error} />
                </>
              )}
            </p>
          ) : (
            <p class="muted">none</p>
          )}
        </div>
      </div>
      <h2>Attempts</h2>
      <Timeline attempts={attempts} now={now} />
      {headers.length > 0 && (
        <section aria-label="Headers">
          <h2>Headers</h2>
          <table class="kv">
            <tbody>
              {headers.map(([k, v]) => (
                <tr>
                  <th scope="row">{k}</th>
                  <td class="break">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <Json label="Payload" value={t.payload} />
      <Json label="Result" value={t.result} />
    </section>
  );
}
