// The schedules page (GET /schedules, issue #9): list, next run, pause/resume, trigger now,
// create one and edit each (cron, zone, the task body as JSON), each linking to its tasks.
// A server without the schedules API (404) gets a friendly empty state instead of an error.
import type { Schedule } from '../api.js';
import { formatTime, relative } from '../format.js';
import { DataTable, Notice } from '../layout.js';

export type SchedulesProps = { now: number } & ({ kind: 'list'; schedules: Schedule[] } | { kind: 'unsupported' } | { kind: 'error'; error: string });

const TEMPLATE = { targetUrl: 'https://worker.example.com/report', payload: {}, retries: 3 };

/** Fields of a schedule form; the script sends them as JSON (`task` parsed) to data-api-path. */
function ScheduleFields({ s, idField }: { s?: Schedule; idField: boolean }) {
  const key = s ? `e-${s.id}` : 'new';
  return (
    <>
      {idField && (
        <label>
          Id <input name="id" maxlength={64} pattern="[A-Za-z0-9_.\-]{1,64}" placeholder="nightly-report (optional)" autocomplete="off" />
        </label>
      )}
      <label>
        Cron <input name="cron" required maxlength={200} value={s?.cron ?? ''} placeholder="0 3 * * *" spellcheck={false} autocomplete="off" />
      </label>
      <label>
        Timezone <input name="timezone" maxlength={64} value={s?.timezone ?? ''} placeholder="UTC" autocomplete="off" />
      </label>
      <label for={`task-${key}`}>Task (the create body, JSON)</label>
      <textarea id={`task-${key}`} name="task" data-json required rows={6} spellcheck={false}>
        {JSON.stringify(s?.task ?? TEMPLATE, null, 2)}
      </textarea>
    </>
  );
}

function Row({ s, now }: { s: Schedule; now: number }) {
  const path = `/v1/schedules/${encodeURIComponent(s.id)}`;
  return (
    <tr id={`s-${s.id}`}>
      <th scope="row" class="mono">
        {s.id}
        <br />
        <a href={`/tasks?schedule=${encodeURIComponent(s.id)}`}>its tasks</a>
      </th>
      <td class="mono">{s.cron}</td>
      <td>{s.timezone ?? 'UTC'}</td>
      <td class="target">
        {s.task?.method && <span class="method">{s.task.method}</span>} {s.task?.targetUrl ?? '—'}
      </td>
      <td>{s.task?.queue ?? 'default'}</td>
      <td>
        {s.paused ? (
          <span class="muted">paused</span>
        ) : (
          <time datetime={s.nextFireAt ?? undefined} title={formatTime(s.nextFireAt)}>
            {relative(s.nextFireAt, now) || '—'}
          </time>
        )}
      </td>
      <td>
        <time datetime={s.lastFireAt ?? undefined} title={formatTime(s.lastFireAt)}>
          {relative(s.lastFireAt, now) || 'never'}
        </time>
      </td>
      <td class="actions">
        <button type="button" data-api-method="PUT" data-api-path={path} data-api-body={JSON.stringify({ paused: !s.paused })} aria-label={`${s.paused ? 'Resume' : 'Pause'} schedule ${s.id}`}>
          {s.paused ? 'Resume' : 'Pause'}
        </button>
        <button type="button" data-api-method="POST" data-api-path={`${path}/trigger`} aria-label={`Trigger schedule ${s.id} now`}>
          Trigger now
        </button>
        <details class="edit">
          <summary aria-label={`Edit schedule ${s.id}`}>Edit</summary>
          <form class="schedule-form" data-json-form data-api-method="PUT" data-api-path={path} aria-label={`Edit schedule ${s.id}`}>
            <ScheduleFields s={s} idField={false} />
            <button type="submit">Save</button>
          </form>
        </details>
        <button type="button" class="danger" data-api-method="DELETE" data-api-path={path} data-confirm={`Delete schedule ${s.id}? Its tasks stay.`} aria-label={`Delete schedule ${s.id}`}>
          Delete…
        </button>
      </td>
    </tr>
  );
}

export function Schedules(props: SchedulesProps) {
  return (
    <>
      <h1>Schedules</h1>
      {props.kind === 'list' && (
        <details class="create" open={props.schedules.length === 0}>
          <summary>New schedule</summary>
          <form class="schedule-form" data-json-form data-api-method="POST" data-api-path="/v1/schedules" aria-label="New schedule">
            <ScheduleFields idField={true} />
            <button type="submit">Create</button>
          </form>
        </details>
      )}
      <section id="r-schedules" data-region aria-label="Schedules">
        {props.kind === 'unsupported' ? (
          <Notice kind="empty">This server has no schedules API yet. Upgrade AsyncQueue to create recurring tasks (cron).</Notice>
        ) : props.kind === 'error' ? (
          <Notice kind="error">{props.error}</Notice>
        ) : props.schedules.length === 0 ? (
          <Notice kind="empty">No schedules yet. Create one above (or with POST /v1/schedules, aq schedules create).</Notice>
        ) : (
          <DataTable caption="Schedules" columns={['Schedule', 'Cron', 'Timezone', 'Target', 'Queue', 'Next run', 'Last run', { actions: true }]}>
            {props.schedules.map((s) => (
              <Row s={s} now={props.now} />
            ))}
          </DataTable>
        )}
      </section>
    </>
  );
}
