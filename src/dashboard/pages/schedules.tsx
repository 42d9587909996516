// The schedules page (GET /schedules, issue #9): list, next run, pause/resume, trigger now.
// A server without the schedules API (404) gets a friendly empty state instead of an error.
import type { Schedule } from '../api.js';
import { formatTime, relative } from '../format.js';
import { Notice } from '../layout.js';

export type SchedulesProps = { now: number } & ({ kind: 'list'; schedules: Schedule[] } | { kind: 'unsupported' } | { kind: 'error'; error: string });

function Row({ s, now }: { s: Schedule; now: number }) {
  const path = `/v1/schedules/${encodeURIComponent(s.id)}`;
  return (
    <tr>
      <th scope="row" class="mono">
        {s.id}
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
      </td>
    </tr>
  );
}

export function Schedules(props: SchedulesProps) {
  return (
    <>
      <h1>Schedules</h1>
      <section id="r-schedules" data-region aria-label="Schedules">
        {props.kind === 'unsupported' ? (
          <Notice kind="empty">This server has no schedules API yet. Upgrade AsyncQueue to create recurring tasks (cron).</Notice>
        ) : props.kind === 'error' ? (
          <Notice kind="error">{props.error}</Notice>
        ) : props.schedules.length === 0 ? (
          <Notice kind="empty">No schedules yet. Create one with POST /v1/schedules.</Notice>
        ) : (
          <div class="table-wrap">
            <table>
              <caption class="sr-only">Schedules</caption>
              <thead>
                <tr>
                  <th scope="col">Schedule</th>
                  <th scope="col">Cron</th>
                  <th scope="col">Timezone</th>
                  <th scope="col">Target</th>
                  <th scope="col">Queue</th>
                  <th scope="col">Next run</th>
                  <th scope="col">Last run</th>
                  <th scope="col">
                    <span class="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {props.schedules.map((s) => (
                  <Row s={s} now={props.now} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    </>
  );
}
