// The task list (GET /tasks): filters by state and queue, newest first, one API page per view
// (cursor paging, never a count), a box to jump to a task by id. Live updates come from the
// script re-reading this page's region on each SSE event.
import type { Task, TaskStatus } from '../../shared/types.js';
import { TASK_STATUSES } from '../../shared/types.js';
import { formatTime, query, relative, truncate } from '../format.js';
import { Badge, Notice } from '../layout.js';

export interface TaskFilter {
  status?: TaskStatus;
  queue?: string;
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

export function TaskRows({ tasks, now }: { tasks: Task[]; now: number }) {
  return (
    <tbody>
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
          </td>
          <td class="when">
            <time datetime={t.createdAt} title={formatTime(t.createdAt)}>
              {relative(t.createdAt, now)}
            </time>
          </td>
        </tr>
      ))}
    </tbody>
  );
}

export function Tasks({ filter, tasks, nextCursor, queueNames, now, error }: TasksProps) {
  const base = { status: filter.status, queue: filter.queue };
  return (
    <>
      <h1>Tasks</h1>
      <Filters filter={filter} queueNames={queueNames} />
      <section id="r-tasks" data-region aria-label="Tasks, newest first">
        {error ? (
          <Notice kind="error">{error}</Notice>
        ) : tasks.length === 0 ? (
          <Notice kind="empty">{filter.cursor ? 'No older tasks.' : 'No tasks match. New ones appear here as they are created.'}</Notice>
        ) : (
          <div class="table-wrap">
            <table class="tasks">
              <caption class="sr-only">Tasks, newest first</caption>
              <thead>
                <tr>
                  <th scope="col">Task</th>
                  <th scope="col">State</th>
                  <th scope="col">Queue</th>
                  <th scope="col" class="num">Attempts</th>
                  <th scope="col">Target</th>
                  <th scope="col">Created</th>
                </tr>
              </thead>
              <TaskRows tasks={tasks} now={now} />
            </table>
          </div>
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
