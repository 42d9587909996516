// One task (GET /tasks/:id): its fields, payload and result pretty-printed, last error and why
// it stopped, why it waits and its plan (api.md §11), an awaiting async attempt (§10), attempts
// as a timeline, the webhook's delivery history with a re-deliver button, and the retry /
// cancel / delete actions; links to its batch and to the chain steps before and after it (api.md §13).
// Credential-like header values are masked (format.ts). A QStash message (made through /v2)
// is marked as one and shows the Upstash-* headers it was published with.
import type { Attempt, Delivery, Task, TaskPlan } from '../../shared/types.js';
import { formatDuration, formatTime, maskHeaders, prettyJson, relative } from '../format.js';
import { Badge, Notice } from '../layout.js';
import { Deliveries, ErrorText } from './deliveries.js';

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

/** Why a failed task made no more attempts, in words (api.md §5). */
export function stopReason(t: Task): string | undefined {
  if (t.status !== 'failed' || !t.error) return undefined;
  if (t.error.message.includes('AQ-No-Retry')) return 'stopped at once: the target answered AQ-No-Retry: true (retries left unused)';
  if (t.error.type === 'blocked') return 'stopped at once: the outbound policy refused the target';
  return `gave up after its ${t.retries} ${t.retries === 1 ? 'retry' : 'retries'}`;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function TaskDeliveries({ task: t, deliveries, now }: { task: Task; deliveries: Delivery[]; now: number }) {
  return (
    <Deliveries
      ownerId={t.id}
      path={`/v1/tasks/${encodeURIComponent(t.id)}`}
      canRedeliver={(t.status === 'completed' || t.status === 'failed') && t.webhookUrl !== null}
      sending={t.webhook?.status === 'pending'}
      deliveries={deliveries}
      now={now}
    />
  );
}

/** Why a pending task waits, in words, and the open attempt of an async task with its deadline. */
function Status({ task: t, now }: { task: Task; now: number }) {
  if (!t.waiting && !t.awaiting) return null;
  return (
    <section class="why" aria-label="Why">
      {t.waiting && (
        <p id="waiting" data-reason={t.waiting.reason}>
          <strong>Waiting</strong> ({t.waiting.reason.replace(/_/g, ' ')}): {t.waiting.message}
          {t.waiting.until && (
            <>
              {' '}
              <span class="muted">— {relative(t.waiting.until, now)}</span>
            </>
          )}
        </p>
      )}
      {t.awaiting && (
        <p id="awaiting">
          <strong>Awaiting completion</strong> of attempt {t.awaiting.attempt}: the target answered 202{' '}
          <time datetime={t.awaiting.since}>{relative(t.awaiting.since, now)}</time>; deadline{' '}
          <time datetime={t.awaiting.deadline}>{formatTime(t.awaiting.deadline)}</time> <span class="muted">({relative(t.awaiting.deadline, now)})</span>;
          last heartbeat {t.awaiting.heartbeatAt ? <time datetime={t.awaiting.heartbeatAt}>{relative(t.awaiting.heartbeatAt, now)}</time> : 'none yet'}
          {t.async?.heartbeat ? ` (every ${t.async.heartbeat} s expected)` : ''}.
        </p>
      )}
    </section>
  );
}

/** The plan as a small timeline: each remaining attempt's start band, then the give-up time. */
function Plan({ plan, now }: { plan: TaskPlan | null; now: number }) {
  if (!plan || (plan.attempts.length === 0 && plan.givesUpAt === null)) return null;
  return (
    <section aria-label="Plan" id="plan">
      <h2>If every attempt fails</h2>
      <ol class="timeline plan">
        {plan.attempts.map((a) => (
          <li class="t-planned">
            <span class="dot" aria-hidden="true"></span>
            <span class="n">Attempt {a.n}</span>
            <time datetime={a.earliest} title={relative(a.earliest, now)}>
              {formatTime(a.earliest)}
            </time>
            <span class="outcome">
              {a.latest === null ? 'latest unknown (queue paused)' : a.latest === a.earliest ? relative(a.earliest, now) : `to ${formatTime(a.latest)}`}
            </span>
          </li>
        ))}
        <li class="t-bad">
          <span class="dot" aria-hidden="true"></span>
          <span class="n">Gives up</span>
          {plan.givesUpAt ? (
            <time datetime={plan.givesUpAt} title={relative(plan.givesUpAt, now)}>
              by {formatTime(plan.givesUpAt)}
            </time>
          ) : (
            <span class="muted">unknown while the queue is paused</span>
          )}
        </li>
      </ol>
    </section>
  );
}

function attemptOutcome(a: Attempt) {
  if (a.async) {
    const how = a.async.ended === null ? 'awaiting completion' : a.async.ended === 'timeout' ? 'timed out' : a.async.ended;
    const hb = a.async.lastHeartbeatAt ? `, last heartbeat ${formatTime(a.async.lastHeartbeatAt)}` : '';
    return (
      <>
        HTTP 202 → {how}
        {hb}
        {a.error && (
          <>
            {' '}
            <ErrorText error={a.error} />
          </>
        )}
      </>
    );
  }
  if (a.error) return <ErrorText error={a.error} />;
  return a.status !== undefined ? `HTTP ${a.status}` : a.durationMs === null ? 'in flight' : '—';
}

function Timeline({ attempts, now }: { attempts: Attempt[]; now: number }) {
  if (attempts.length === 0) return <Notice kind="empty">No attempts yet.</Notice>;
  return (
    <ol class="timeline">
      {attempts.map((a) => {
        const ok = a.status !== undefined && a.status >= 200 && a.status < 300 && !a.error;
        const state = a.durationMs === null ? 'running' : ok && (!a.async || a.async.ended === 'completed') ? 'ok' : 'bad';
        return (
          <li class={`t-${state}`}>
            <span class="dot" aria-hidden="true"></span>
            <span class="n">Attempt {a.n}</span>
            <time datetime={a.startedAt} title={relative(a.startedAt, now)}>
              {formatTime(a.startedAt)}
            </time>
            <span class="dur">{formatDuration(a.durationMs)}</span>
            <span class="outcome">{attemptOutcome(a)}</span>
          </li>
        );
      })}
    </ol>
  );
}

const QSTASH_KIND = { message: 'QStash message', callback: 'QStash callback', failure_callback: 'QStash failure callback' } as const;

/** What a QStash message keeps of its publish request: settings, and its headers as sent (api.md §14). */
function QstashDetail({ task: t }: { task: Task }) {
  const q = t.qstash;
  if (!q) return null;
  const sent = maskHeaders(q.sent);
  const rows: [string, string][] = [];
  if (q.urlGroup) rows.push(['URL group', q.endpointName ? `${q.urlGroup} (endpoint ${q.endpointName})` : q.urlGroup]);
  if (q.contentType) rows.push(['Content-Type', q.contentType]);
  if (q.retryDelay) rows.push(['Retry delay', `${q.retryDelay} ms`]);
  if (q.callback) rows.push(['Callback', q.callback]);
  if (q.failureCallback) rows.push(['Failure callback', q.failureCallback]);
  if (q.flowControl) {
    const fc = q.flowControl;
    const parts = [fc.parallelism !== undefined ? `parallelism ${fc.parallelism}` : '', fc.rate !== undefined ? `rate ${fc.rate} per ${fc.period ?? 1} s` : ''].filter(Boolean);
    rows.push(['Flow control', `${fc.key}${parts.length > 0 ? ' · ' + parts.join(', ') : ''}`]);
  }
  if (q.notBefore !== null) rows.push(['Not before', formatTime(new Date(q.notBefore).toISOString())]);
  if (q.callerIp) rows.push(['Published from', q.callerIp]);
  if (q.base64) rows.push(['Body', 'binary (the payload below is its base64)']);
  return (
    <section aria-label="QStash" class="qstash">
      <h2>{QSTASH_KIND[q.kind]}</h2>
      <dl class="props">
        {q.sourceMessageId && <dt>Reports on</dt>}
        {q.sourceMessageId && (
          <dd>
            <a class="mono" href={`/tasks/${encodeURIComponent(q.sourceMessageId)}`}>
              {q.sourceMessageId}
            </a>
          </dd>
        )}
        {rows.map(([k, v]) => (
          <>
            <dt>{k}</dt>
            <dd class="break">{v}</dd>
          </>
        ))}
      </dl>
      {sent.length > 0 && (
        <>
          <h3>Headers as sent</h3>
          <table class="kv" aria-label="Headers as sent">
            <tbody>
              {sent.map(([k, v]) => (
                <tr>
                  <th scope="row">{k}</th>
                  <td class="break">{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
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

export function TaskDetail({
  task: t, attempts, deliveries = [], plan = null, now,
}: { task: Task; attempts: Attempt[]; deliveries?: Delivery[]; plan?: TaskPlan | null; now: number }) {
  const headers = maskHeaders(t.headers);
  const stopped = stopReason(t);
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
        {t.qstash && <span class="badge qstash-tag">{QSTASH_KIND[t.qstash.kind]}</span>}
      </div>
      <Actions task={t} />
      <Status task={t} now={now} />
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
            {t.attempts} {stopped ? `(${stopped}; timeout ${t.timeout} s)` : `(retries allowed: ${t.retries}, timeout ${t.timeout} s)`}
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
          {t.concurrencyKey != null && <dt>Concurrency key</dt>}
          {t.concurrencyKey != null && <dd class="break">{t.concurrencyKey}</dd>}
          {t.idempotencyKey && <dt>Idempotency key</dt>}
          {t.idempotencyKey && <dd class="break">{t.idempotencyKey}</dd>}
          {t.scheduleId && <dt>Schedule</dt>}
          {t.scheduleId && (
            <dd>
              <a class="mono" href={`/schedules#s-${encodeURIComponent(t.scheduleId)}`}>{t.scheduleId}</a> ·{' '}
              <a href={`/tasks?schedule=${encodeURIComponent(t.scheduleId)}`}>its tasks</a>
            </dd>
          )}
          {t.batchId && <dt>Batch</dt>}
          {t.batchId && (
            <dd>
              <a class="mono" id="batch-link" href={`/batches/${encodeURIComponent(t.batchId)}`}>{t.batchId}</a>
            </dd>
          )}
          {t.parentId && <dt>Created by</dt>}
          {t.parentId && (
            <dd>
              <a class="mono" id="parent-link" href={`/tasks/${encodeURIComponent(t.parentId)}`}>{t.parentId}</a> <span class="muted">(its then / onFailure)</span>
            </dd>
          )}
          {t.nextTaskId && <dt>Next</dt>}
          {t.nextTaskId && (
            <dd>
              <a class="mono" id="next-link" href={`/tasks/${encodeURIComponent(t.nextTaskId)}`}>{t.nextTaskId}</a>
            </dd>
          )}
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
              {t.webhook && ` · ${plural(t.webhook.attempts, 'delivery', 'deliveries')} tried`}
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
      <Plan plan={plan} now={now} />
      {t.webhookUrl && <TaskDeliveries task={t} deliveries={deliveries} now={now} />}
      <QstashDetail task={t} />
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
