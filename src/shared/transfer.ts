// What `asyncqueue export` writes and `import` reads (api.md §15): one JSON line per task,
// `{"task": Task, "attempts": [Attempt…]}`, and how such a line becomes a store insert.
import type { NewTask } from './defaults.js';
import type { Attempt, Task, TaskError, WebhookState } from './types.js';

/** One line of an export. */
export interface ExportLine {
  task: Task;
  attempts: Attempt[];
}

/** A task to import as the store receives it: the task as created, the state it had, its attempts (times in ms). */
export interface ImportItem {
  task: NewTask;
  state: {
    status: Task['status'];
    attempts: number;
    updatedAt: number;
    completedAt: number | null;
    resultJson: string | null;
    error: TaskError | null;
    webhook: WebhookState | null;
  };
  attempts: { n: number; startedAt: number; durationMs: number | null; status?: number; error?: TaskError }[];
}

/** Tasks per import call (the CLI sends at most this many lines per request). */
export const MAX_IMPORT_BATCH = 1000;

const ms = (iso: string) => Date.parse(iso);

/**
 * An exported line as an import: ids, times, state and attempts kept. A task that was
 * `running` when exported is imported `pending`, its open attempt recorded `interrupted`
 * (no node is running it any more), due at `now`.
 */
export function toImportItem(line: ExportLine, now: number): ImportItem {
  const t = line.task;
  const running = t.status === 'running';
  const attempts = line.attempts.map((a) => ({
    n: a.n,
    startedAt: ms(a.startedAt),
    durationMs: a.durationMs ?? (running ? Math.max(0, now - ms(a.startedAt)) : null),
    ...(a.status !== undefined ? { status: a.status } : {}),
    ...(a.error !== undefined ? { error: a.error } : a.durationMs === null && running ? { error: { type: 'interrupted' as const, message: 'interrupted by a move to another server (export/import)' } } : {}),
  }));
  return {
    task: {
      id: t.id, queue: t.queue, targetUrl: t.targetUrl, method: t.method, headers: t.headers,
      payloadJson: JSON.stringify(t.payload ?? null), payload: t.payload ?? null,
      webhookUrl: t.webhookUrl, webhookRetries: t.webhookRetries, retries: t.retries, timeoutMs: Math.round(t.timeout * 1000),
      backoff: t.backoff, priority: t.priority, idempotencyKey: t.idempotencyKey, labels: t.labels,
      concurrencyKey: t.concurrencyKey ?? null,
      runAt: running ? now : ms(t.runAt), createdAt: ms(t.createdAt), scheduleId: t.scheduleId, qstash: t.qstash ?? null,
      async: t.async ? { timeoutMs: Math.round(t.async.timeout * 1000), heartbeatMs: t.async.heartbeat === null ? null : Math.round(t.async.heartbeat * 1000) } : null,
    },
    state: {
      status: running ? 'pending' : t.status,
      attempts: t.attempts,
      updatedAt: running ? now : ms(t.updatedAt),
      completedAt: t.completedAt === null ? null : ms(t.completedAt),
      resultJson: t.result === null || t.result === undefined ? null : JSON.stringify(t.result),
      error: running ? { type: 'interrupted', message: 'interrupted by a move to another server (export/import)' } : t.error,
      webhook: t.webhook,
    },
    attempts,
  };
}
