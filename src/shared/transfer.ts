// What `asyncqueue export` writes and `import` reads (api.md §15): one JSON line per task,
// `{"task": Task, "attempts": [Attempt…]}` plus what the Task object does not show but a move
// must keep: the task's chain steps still to be created (`chain`, api.md §13), its webhook
// outcome count (`outcomes`, api.md §16) and, on a batch member's line, its batch (`batch`).
// How such a line becomes a store insert is here too.
import type { NewTask } from './defaults.js';
import type { Attempt, AttemptAsync, Batch, ChainedTaskInput, Task, TaskError, WebhookState } from './types.js';

/** A batch as an export line carries it: the `GET /v1/batches/:id` view and how many times it became done (the n of `webhook-id: <batch id>.<n>`). */
export interface ExportBatch extends Batch {
  outcomes: number;
}

/** A task's `then` / `onFailure` steps as stored (validated create bodies). */
export interface ChainSteps {
  then?: ChainedTaskInput;
  onFailure?: ChainedTaskInput;
}

/** One line of an export. */
export interface ExportLine {
  task: Task;
  attempts: Attempt[];
  /** The steps this task creates when it ends (api.md §13); absent without any. Kept after the task ended: a retry ends it again. */
  chain?: ChainSteps;
  /** Outcomes so far: the n of its last webhook's `webhook-id: <task id>.<n>` (api.md §16); absent in exports made before it was kept. */
  outcomes?: number;
  /** The task's batch, on every member's line (api.md §13). */
  batch?: ExportBatch;
}

/** A batch to recreate on import (times in ms); see the stores' importTasks. */
export interface ImportBatch {
  id: string;
  total: number;
  counts: Batch['counts'];
  done: boolean;
  createdAt: number;
  doneAt: number | null;
  webhookUrl: string | null;
  labels: string[];
  webhook: WebhookState | null;
  outcomes: number;
}

/** An attempt to import (times in ms). */
export interface ImportAttempt {
  n: number;
  startedAt: number;
  durationMs: number | null;
  status?: number;
  error?: TaskError;
  retryAfterMs?: number;
  async?: { acceptedAt: number; ended: AttemptAsync['ended']; endedAt: number | null; heartbeatAt: number | null };
}

/** A task to import as the store receives it: the task as created, the state it had, its attempts (times in ms), its batch. */
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
    /** The task its chain step created; null when none (yet). */
    nextTaskId: string | null;
    /** Webhook outcomes so far (api.md §16); for an old export, 1 for a terminal task, else 0. */
    outcomes: number;
  };
  attempts: ImportAttempt[];
  /** Set on a batch member's item (task.batchId is its id). */
  batch?: ImportBatch;
}

/** Tasks per import call (the CLI sends at most this many lines per request). */
export const MAX_IMPORT_BATCH = 1000;

const ms = (iso: string) => Date.parse(iso);
const INTERRUPTED: TaskError = { type: 'interrupted', message: 'interrupted by a move to another server (export/import)' };

/**
 * An exported line as an import: ids, times, state, links, chain, batch and attempts kept. A
 * task that was `running` when exported is imported `pending`, its open attempt recorded
 * `interrupted` (no node is running it any more; an open async attempt too, since completion
 * tokens are made with a key of the database it left), due at `now`.
 */
export function toImportItem(line: ExportLine, now: number): ImportItem {
  const t = line.task;
  const running = t.status === 'running';
  const attempts = line.attempts.map((a): ImportAttempt => {
    // An attempt still open (in flight, or after its 202) is closed by the move: interrupted.
    const open = a.durationMs === null && running;
    return {
      n: a.n,
      startedAt: ms(a.startedAt),
      durationMs: a.durationMs ?? (running ? Math.max(0, now - ms(a.startedAt)) : null),
      ...(a.status !== undefined ? { status: a.status } : {}),
      ...(a.error !== undefined ? { error: a.error } : open ? { error: INTERRUPTED } : {}),
      ...(a.retryAfter !== undefined ? { retryAfterMs: Math.round(a.retryAfter * 1000) } : {}),
      ...(a.async
        ? {
            async: {
              acceptedAt: ms(a.async.acceptedAt),
              ended: a.async.ended,
              endedAt: a.async.endedAt === null ? null : ms(a.async.endedAt),
              heartbeatAt: a.async.lastHeartbeatAt === null ? null : ms(a.async.lastHeartbeatAt),
            },
          }
        : {}),
    };
  });
  const terminal = t.status === 'completed' || t.status === 'failed';
  const b = line.batch;
  return {
    task: {
      id: t.id, queue: t.queue, targetUrl: t.targetUrl, method: t.method, headers: t.headers,
      payloadJson: JSON.stringify(t.payload ?? null), payload: t.payload ?? null,
      webhookUrl: t.webhookUrl, webhookRetries: t.webhookRetries, retries: t.retries, timeoutMs: Math.round(t.timeout * 1000),
      backoff: t.backoff, priority: t.priority, idempotencyKey: t.idempotencyKey, labels: t.labels,
      concurrencyKey: t.concurrencyKey ?? null,
      runAt: running ? now : ms(t.runAt), createdAt: ms(t.createdAt), scheduleId: t.scheduleId, qstash: t.qstash ?? null,
      async: t.async ? { timeoutMs: Math.round(t.async.timeout * 1000), heartbeatMs: t.async.heartbeat === null ? null : Math.round(t.async.heartbeat * 1000) } : null,
      batchId: t.batchId ?? null,
      parentId: t.parentId ?? null,
      chainJson: line.chain && (line.chain.then !== undefined || line.chain.onFailure !== undefined) ? JSON.stringify({ then: line.chain.then, onFailure: line.chain.onFailure }) : null,
    },
    state: {
      status: running ? 'pending' : t.status,
      attempts: t.attempts,
      updatedAt: running ? now : ms(t.updatedAt),
      completedAt: t.completedAt === null ? null : ms(t.completedAt),
      resultJson: t.result === null || t.result === undefined ? null : JSON.stringify(t.result),
      error: running ? INTERRUPTED : t.error,
      webhook: t.webhook,
      nextTaskId: t.nextTaskId ?? null,
      outcomes: line.outcomes ?? (terminal ? 1 : 0),
    },
    attempts,
    ...(b
      ? {
          batch: {
            id: b.id, total: b.total, counts: b.counts, done: b.done, createdAt: ms(b.createdAt), doneAt: b.doneAt === null ? null : ms(b.doneAt),
            webhookUrl: b.webhookUrl, labels: b.labels, webhook: b.webhook, outcomes: b.outcomes,
          },
        }
      : {}),
  };
}
