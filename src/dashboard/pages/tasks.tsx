// The task list (GET /tasks): filters by state, queue, label, schedule and a payload field
// (the API's bounded scan), newest first, one API page per view (cursor paging, never a
// count), the last error of each task, "retry all failed", and a box to jump to a task by id.
// Live updates come from the script re-reading this page's region on each SSE event.
import type { Task, TaskStatus } from '../../shared/types.js';
import { TASK_STATUSES } from '../../shared/types.js';
import { formatTime, query, relative, truncate } from '../format.js';
import { Badge, DataTable, Notice } from '../layout.js';

export interface TaskFilter {
  status?: TaskStatus;
  queue?: string;
  label?: string;
  schedule?: string;
  /** Tasks of this batch (api.md §13). */
  batch?: string;
  /** Payload search: a dot path such as jobId, and the value there. */
  field?: string;
  value?: string;
  cursor?: string;
}

export interface TasksProps {
  filter: TaskFilter;
  tasks: Task[];
  nextCursor: string | null;
  queueNames: string[];
  now: number;
  /** An error message from the API (bad filter, bad cursor). */
  error?: string;
}

function Filters({ filter, queueNames }: { filter: TaskFilter; queueNames: string[] }) {
  const names = filter.queue && !queueNames.includes(filter.queue) ? [filter.queue, ...queueNames] : queueNames;
  return (
    <div class="toolbar">
      <form method="get" action="/tasks" class="filters" role="search" aria-label="Filter tasks">
        <label>
          State{' '}
          <select name="status" data-autosubmit>
            <option value="">any</option>
            {TASK_STATUSES.map((s) => (
              <option value={s} selected={filter.status === s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Queue{' '}
          <select name="queue" data-autosubmit>
            <option value="">any</option>
            {names.map((q) => (
              <option value={q} selected={filter.queue === q}>
                {q}
              </option>
            ))}
          </select>
        </label>
        <label>
          Label <input name="label" type="search" maxlength={64} value={filter.label ?? ''} placeholder="any" autocomplete="off" size={10} />
        </label>
        <label>
          Payload field <input name="field" type="search" maxlength={200} value={filter.field ?? ''} placeholder="jobId" autocomplete="off" spellcheck={false} size={10} />
        </label>
        <label>
          = <input name="value" type="search" maxlength={500} value={filter.value ?? ''} placeholder="value" autocomplete="off" spellcheck={false} size={12} aria-label="Payload value" />
        </label>
        {filter.schedule && <input type="hidden" name="schedule" value={filter.schedule} />}
        {filter.batch && <input type="hidden" name="batch" value={filter.batch} />}
        <button type="submit">Filter</button>
      </form>
      <form method="get" action="/tasks" class="jump">
        <label for="jump-id">Task id</label>
        <input id="jump-id" name="id" type="search" required maxlength={64} placeholder="tsk_…" autocomplete="off" spellcheck={false} />
        <button type="submit">Open</button>
      </form>
    </div>
  );
}

/** A table of tasks, one row each: the task list's and a batch page's. */
export function TaskTable({ tasks, now, caption }: { tasks: Task[]; now: number; caption: string }) {
  return (
    <DataTable class="tasks" caption={caption} columns={['Task', 'State', 'Queue', { num: 'Attempts' }, 'Target', 'Last error', 'Created']}>
      {tasks.map((t) => (
        <tr data-id={t.id}>
          <td>
            <a href={`/tasks/${encodeURIComponent(t.id)}`} class="mono">
              {t.id}
            </a>
          </td>
          <td>
            <Badge status={t.status} />
          </td>
          <td>{t.queue}</td>
          <td class="num">{t.attempts}</td>
          <td class="target" title={t.targetUrl}>
            <span class="method">{t.method}</span> {truncate(t.targetUrl, 80)}
            {t.qstash && (
              <>
                {' '}
                <span class="badge qstash-tag" title="published through the QStash-compatible /v2 API">
                  QStash
                </span>
              </>
            )}
          </td>
          <td class="error-cell" title={t.error ? `${t.error.type}: ${t.error.message}` : undefined}>
            {t.error ? <span class="err">{truncate(`${t.error.type}${t.error.status ? ` ${t.error.status}` : ''}: ${t.error.message}`, 90)}</span> : ''}
          </td>
          <td class="when">
            <time datetime={t.createdAt} title={formatTime(t.createdAt)}>
              {relative(t.createdAt, now)}
            </time>
          </td>
        </tr>
      ))}
    </DataTable>
  );
}

/** "Retry all failed": the bulk retry of §3 over the list's queue, label and schedule (not a payload search, which the bulk filter cannot express). */
function RetryAllFailed({ filter }: { filter: TaskFilter }) {
  if (filter.field || filter.schedule || (filter.status && filter.status !== 'failed')) return null;
  const body = { status: 'failed', queue: filter.queue, label: filter.label, batch: filter.batch };
  const scope = [filter.queue && `of queue ${filter.queue}`, filter.label && `with label ${filter.label}`, filter.batch && `of batch ${filter.batch}`].filter(Boolean).join(' ');
  return (
    <div class="actions bulk" role="group" aria-label="Bulk actions">
      <button type="button" data-api-method="POST" data-api-path="/v1/tasks/retry" data-api-body={JSON.stringify(body)}
        data-confirm={`Retry every failed task${scope ? ' ' + scope : ''}? Each gets a fresh set of retries.`}>
        Retry all failed{scope ? ` ${scope}` : ''}…
      </button>
    </div>
  );
}

export function Tasks({ filter, tasks, nextCursor, queueNames, now, error }: TasksProps) {
  const base = { status: filter.status, queue: filter.queue, label: filter.label, schedule: filter.schedule, batch: filter.batch, field: filter.field, value: filter.value };
  return (
    <>
      <h1>
        Tasks{filter.schedule ? <> of schedule <span class="mono">{filter.schedule}</span></> : ''}
        {filter.batch ? <> of batch <a class="mono" href={`/batches/${encodeURIComponent(filter.batch)}`}>{filter.batch}</a></> : ''}
      </h1>
      <Filters filter={filter} queueNames={queueNames} />
      <RetryAllFailed filter={filter} />
      {filter.field && (
        <p class="muted search-note">
          Payload search: each page looks at the newest 10,000 tasks matching the other filters (a scan, not an index), so a page can be short; “Older »” searches on.
        </p>
      )}
      <section id="r-tasks" data-region aria-label="Tasks, newest first">
        {error ? (
          <Notice kind="error">{error}</Notice>
        ) : tasks.length === 0 ? (
          <Notice kind="empty">{nextCursor ? 'No match among the tasks searched on this page; older ones may match.' : filter.cursor ? 'No older tasks.' : 'No tasks match. New ones appear here as they are created.'}</Notice>
        ) : (
          <TaskTable tasks={tasks} now={now} caption="Tasks, newest first" />
        )}
        <nav class="pager" aria-label="Pages">
          {filter.cursor && <a href={`/tasks${query(base)}`}>« Newest</a>}
          {nextCursor && (
            <a rel="next" href={`/tasks${query({ ...base, cursor: nextCursor })}`}>
              Older »
            </a>
          )}
        </nav>
      </section>
    </>
  );
}
