// Versioned schema migrations, tracked in PRAGMA user_version. A database from a newer
// AsyncQueue is refused, never altered. The `counts` and `minute_stats` tables are kept by
// the writes themselves (context.ts), applied once per group commit.
import type Database from 'better-sqlite3';

const V1 = `
CREATE TABLE tasks (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  queue TEXT NOT NULL,
  status TEXT NOT NULL,
  target_url TEXT NOT NULL,
  method TEXT NOT NULL,
  headers TEXT NOT NULL,
  payload TEXT NOT NULL,
  webhook_url TEXT,
  webhook_retries INTEGER NOT NULL,
  retries INTEGER NOT NULL,
  timeout_ms INTEGER NOT NULL,
  backoff TEXT NOT NULL,
  priority INTEGER NOT NULL,
  idempotency_key TEXT,
  labels TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  attempts_base INTEGER NOT NULL DEFAULT 0,
  run_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  completed_at INTEGER,
  result TEXT,
  error TEXT,
  webhook_status TEXT,
  webhook_attempts INTEGER NOT NULL DEFAULT 0,
  webhook_run_at INTEGER,
  webhook_error TEXT,
  schedule_id TEXT
);
CREATE UNIQUE INDEX tasks_idempotency ON tasks(idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX tasks_due ON tasks(queue, priority DESC, run_at) WHERE status = 'pending';
CREATE INDEX tasks_pending_run_at ON tasks(queue, run_at) WHERE status = 'pending';
CREATE INDEX tasks_status ON tasks(status, seq);
CREATE INDEX tasks_expiry ON tasks(completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX tasks_webhook_due ON tasks(webhook_run_at) WHERE webhook_status = 'pending';
CREATE INDEX tasks_queue_seq ON tasks(queue, seq);
-- "failed tasks of queue X" (the on-call view) stays one indexed query; failures are rare, so it costs little.
CREATE INDEX tasks_queue_failed ON tasks(queue, seq) WHERE status = 'failed';

CREATE TABLE task_labels (label TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (label, seq)) WITHOUT ROWID;
-- deleting a task removes its labels by seq (the delete trigger); without this, each delete scans the table
CREATE INDEX task_labels_seq ON task_labels(seq);

CREATE TABLE attempts (
  task_id TEXT NOT NULL,
  n INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  duration_ms INTEGER,
  status INTEGER,
  error TEXT,
  PRIMARY KEY (task_id, n)
) WITHOUT ROWID;

CREATE TABLE queues (
  name TEXT PRIMARY KEY,
  concurrency INTEGER,
  rate_per_second REAL,
  paused INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL
);

CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE counts (queue TEXT NOT NULL, status TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (queue, status)) WITHOUT ROWID;

CREATE TABLE minute_stats (
  minute INTEGER PRIMARY KEY,
  dispatched INTEGER NOT NULL DEFAULT 0,
  completed INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0
);

CREATE TRIGGER tasks_labels_delete AFTER DELETE ON tasks WHEN OLD.labels <> '[]' BEGIN
  DELETE FROM task_labels WHERE seq = OLD.seq;
END;
`;

/** Schedules (issue: recurring tasks from cron). */
const V2 = `
CREATE TABLE schedules (
  id TEXT PRIMARY KEY,
  cron TEXT NOT NULL,
  timezone TEXT,
  task TEXT NOT NULL,
  paused INTEGER NOT NULL DEFAULT 0,
  catch_up TEXT NOT NULL DEFAULT 'latest',
  catch_up_max INTEGER NOT NULL DEFAULT 10,
  last_fire_at INTEGER,
  next_fire_at INTEGER,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
CREATE INDEX schedules_next ON schedules(next_fire_at) WHERE paused = 0;
CREATE INDEX tasks_schedule ON tasks(schedule_id, seq) WHERE schedule_id IS NOT NULL;
`;

/** QStash compatibility (api.md §14): what a /v2 task keeps of its request, and URL groups. */
const V3 = `
ALTER TABLE tasks ADD COLUMN qstash TEXT;
CREATE TABLE url_group_endpoints (
  group_name TEXT NOT NULL,
  url TEXT NOT NULL,
  name TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (group_name, url)
) WITHOUT ROWID;
`;

/**
 * Outcome webhooks (api.md §16): `outcomes` counts a task's ends in completed or failed (the
 * `n` of `webhook-id: <task id>.<n>`); `webhook_attempts_base` is `webhook_attempts` at the
 * last re-delivery (fresh webhookRetries); `deliveries` keeps every delivery attempt.
 */
const V4 = `
ALTER TABLE tasks ADD COLUMN outcomes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN webhook_attempts_base INTEGER NOT NULL DEFAULT 0;
UPDATE tasks SET outcomes = 1 WHERE status IN ('completed', 'failed');
CREATE TABLE deliveries (
  task_id TEXT NOT NULL,
  outcome INTEGER NOT NULL,
  attempt INTEGER NOT NULL,
  started_at INTEGER NOT NULL,
  duration_ms INTEGER,
  status INTEGER,
  error TEXT,
  PRIMARY KEY (task_id, outcome, attempt)
) WITHOUT ROWID;
-- "every failed webhook" (bulk redeliver after an outage) stays one indexed query; such rows are rare
CREATE INDEX tasks_webhook_failed ON tasks(seq) WHERE webhook_status = 'failed';
`;

/**
 * Dashboard sessions ended by logout: the session's random id (never the token) until the
 * time its cookie expires anyway, so that every node sharing the database refuses it.
 */
const V5 = `
CREATE TABLE revoked_sessions (id TEXT PRIMARY KEY, expires_at INTEGER NOT NULL) WITHOUT ROWID;
`;

/**
 * Async completion (api.md §10): a task's async settings, its open attempt after a 202
 * (meaningful only while the task is running), and how each async attempt ended. Also the
 * Retry-After delay of each answer, for the plan of §11.
 */
const V6 = `
ALTER TABLE tasks ADD COLUMN async_timeout_ms INTEGER;
ALTER TABLE tasks ADD COLUMN async_heartbeat_ms INTEGER;
ALTER TABLE tasks ADD COLUMN awaiting_since INTEGER;
ALTER TABLE tasks ADD COLUMN awaiting_deadline INTEGER;
ALTER TABLE tasks ADD COLUMN awaiting_heartbeat_at INTEGER;
CREATE INDEX tasks_awaiting_deadline ON tasks(awaiting_deadline) WHERE status = 'running' AND awaiting_since IS NOT NULL;
ALTER TABLE attempts ADD COLUMN retry_after_ms INTEGER;
ALTER TABLE attempts ADD COLUMN accepted_at INTEGER;
ALTER TABLE attempts ADD COLUMN ended TEXT;
ALTER TABLE attempts ADD COLUMN ended_at INTEGER;
ALTER TABLE attempts ADD COLUMN heartbeat_at INTEGER;
-- A cancel (one task or many) of a task with an open async attempt closes that attempt's record.
CREATE TRIGGER tasks_async_cancel AFTER UPDATE OF status ON tasks
WHEN OLD.status = 'running' AND NEW.status = 'cancelled' AND OLD.awaiting_since IS NOT NULL BEGIN
  UPDATE attempts SET duration_ms = MAX(0, NEW.updated_at - started_at), error = NEW.error, ended = 'cancelled',
    ended_at = NEW.updated_at, heartbeat_at = OLD.awaiting_heartbeat_at
    WHERE task_id = NEW.id AND n = NEW.attempts AND ended IS NULL;
  UPDATE tasks SET awaiting_since = NULL, awaiting_deadline = NULL, awaiting_heartbeat_at = NULL WHERE seq = NEW.seq;
END;
`;

/**
 * Flow control by key (api.md §12): a task's concurrencyKey, a queue's keyConcurrency and its
 * key cursor (the key last served: keys take turns in key order from there). Both indexes are
 * partial on keyed tasks, so unkeyed tasks cost them nothing: due tasks of one key in claim
 * order (and, skipping from key to key, the distinct keys with a due task), and the running
 * attempts of each key (counted by every claim of a queue with keyConcurrency).
 */
const V7 = `
ALTER TABLE tasks ADD COLUMN concurrency_key TEXT;
ALTER TABLE queues ADD COLUMN key_concurrency INTEGER;
ALTER TABLE queues ADD COLUMN key_cursor TEXT;
CREATE INDEX tasks_key_due ON tasks(queue, concurrency_key, priority DESC, run_at) WHERE status = 'pending' AND concurrency_key IS NOT NULL;
CREATE INDEX tasks_key_running ON tasks(queue, concurrency_key) WHERE status = 'running' AND concurrency_key IS NOT NULL;
`;

/**
 * The UPDATE of a batch row for one member change (migration 8's triggers): `delta(status)` is the
 * change of that status's count, `total` of the total, `at` the change's time. SET expressions
 * read the row as it was, so "this change made the batch done" is `done_at IS NULL` and no
 * pending or running member after the change; done again after a retry counts another outcome.
 */
function batchChange(o: { key: string; at: string; total: string; delta: (status: string) => string }): string {
  const d = o.delta;
  const live = `pending + ${d('pending')} + running + ${d('running')}`;
  const became = `(done_at IS NULL AND ${live} = 0)`;
  const onDone = (value: string, column: string) => `CASE WHEN ${became} THEN ${value} ELSE ${column} END`;
  return `  UPDATE batches SET
    total = total + ${o.total},
    pending = pending + ${d('pending')}, running = running + ${d('running')},
    completed = completed + ${d('completed')}, failed = failed + ${d('failed')}, cancelled = cancelled + ${d('cancelled')},
    done_at = CASE WHEN ${live} > 0 THEN NULL WHEN done_at IS NULL THEN ${o.at} ELSE done_at END,
    outcomes = outcomes + ${became},
    last_done_at = ${onDone(o.at, 'last_done_at')},
    done_total = ${onDone(`total + ${o.total}`, 'done_total')},
    done_completed = ${onDone(`completed + ${d('completed')}`, 'done_completed')},
    done_failed = ${onDone(`failed + ${d('failed')}`, 'done_failed')},
    done_cancelled = ${onDone(`cancelled + ${d('cancelled')}`, 'done_cancelled')},
    webhook_status = ${onDone(`CASE WHEN webhook_url IS NULL THEN NULL ELSE 'pending' END`, 'webhook_status')},
    webhook_run_at = ${onDone(`CASE WHEN webhook_url IS NULL THEN NULL ELSE ${o.at} END`, 'webhook_run_at')},
    webhook_attempts = ${onDone('0', 'webhook_attempts')},
    webhook_attempts_base = ${onDone('0', 'webhook_attempts_base')},
    webhook_error = ${onDone('NULL', 'webhook_error')}
  WHERE id = ${o.key};`;
}

/**
 * Batches and chains (api.md §13). A batch row counts its tasks by state; the triggers below keep
 * those counts in the transaction of every status change or delete of a member (claims, finishes,
 * cancel, retry, bulk actions, async ends, recovery), so reading a batch is one lookup. When the
 * last member becomes terminal the same trigger marks the batch done, counts the time (`outcomes`,
 * the n of `webhook-id: <batch id>.<n>`), keeps the counts as they were then for the webhook body
 * and opens its delivery (an outbox, like a task's); a member made pending again reopens it.
 * Creates add to `total` and `pending` themselves (one statement per batch, not one per task).
 * `chain` is a task's `then` / `onFailure` steps; `parent_id` and `next_task_id` link a chain.
 */
const V8 = `
ALTER TABLE tasks ADD COLUMN batch_id TEXT;
ALTER TABLE tasks ADD COLUMN parent_id TEXT;
ALTER TABLE tasks ADD COLUMN next_task_id TEXT;
ALTER TABLE tasks ADD COLUMN chain TEXT;
CREATE INDEX tasks_batch ON tasks(batch_id, seq) WHERE batch_id IS NOT NULL;
CREATE TABLE batches (
  id TEXT PRIMARY KEY,
  webhook_url TEXT,
  labels TEXT NOT NULL DEFAULT '[]',
  total INTEGER NOT NULL DEFAULT 0,
  pending INTEGER NOT NULL DEFAULT 0,
  running INTEGER NOT NULL DEFAULT 0,
  completed INTEGER NOT NULL DEFAULT 0,
  failed INTEGER NOT NULL DEFAULT 0,
  cancelled INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  done_at INTEGER,
  outcomes INTEGER NOT NULL DEFAULT 0,
  last_done_at INTEGER,
  done_total INTEGER,
  done_completed INTEGER,
  done_failed INTEGER,
  done_cancelled INTEGER,
  webhook_status TEXT,
  webhook_attempts INTEGER NOT NULL DEFAULT 0,
  webhook_attempts_base INTEGER NOT NULL DEFAULT 0,
  webhook_run_at INTEGER,
  webhook_error TEXT
);
CREATE INDEX batches_webhook_due ON batches(webhook_run_at) WHERE webhook_status = 'pending';
-- One statement per member change: the counts, and whether this change made the batch done (or not done).
CREATE TRIGGER tasks_batch_status AFTER UPDATE OF status ON tasks
WHEN NEW.batch_id IS NOT NULL AND OLD.status <> NEW.status BEGIN
${batchChange({ key: 'NEW.batch_id', at: 'NEW.updated_at', total: '0', delta: (s) => `((NEW.status = '${s}') - (OLD.status = '${s}'))` })}
END;
CREATE TRIGGER tasks_batch_delete AFTER DELETE ON tasks WHEN OLD.batch_id IS NOT NULL BEGIN
${batchChange({ key: 'OLD.batch_id', at: 'OLD.updated_at', total: '-1', delta: (s) => `(0 - (OLD.status = '${s}'))` })}
END;
`;

/**
 * Open delivery attempts (duration null: in flight). The start-up recovery closes every one of
 * them, including those of a delivery superseded while in flight (a task retried, a batch done
 * again), which no claim column points at any more; this keeps that one indexed read.
 */
const V9 = `
CREATE INDEX deliveries_open ON deliveries(task_id) WHERE duration_ms IS NULL;
`;

/** Migration n brings the schema from version n-1 to n. */
export const MIGRATIONS: readonly string[] = [V1, V2, V3, V4, V5, V6, V7, V8, V9];
export const SCHEMA_VERSION = MIGRATIONS.length;

export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}

/** Applies pending migrations in one transaction each; refuses a database from a newer version. */
export function migrate(db: Database.Database): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new SchemaTooNewError(
      `this database has schema version ${current}, but this AsyncQueue only knows up to ${SCHEMA_VERSION}; upgrade AsyncQueue (the file was not changed)`,
    );
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
  return SCHEMA_VERSION;
}
