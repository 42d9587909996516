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

/** Migration n brings the schema from version n-1 to n. */
export const MIGRATIONS: readonly string[] = [V1, V2, V3, V4, V5, V6, V7];
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
