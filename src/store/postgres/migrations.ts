// Versioned schema migrations for PostgreSQL, tracked in aq_schema. Every starting node runs
// them inside one transaction holding an advisory lock, so they run once however many nodes
// start together; a database from a newer AsyncQueue is refused, never altered.
// Times are milliseconds since the epoch (bigint), as in the SQLite store, so both map rows
// the same way; aq_now_ms() is the database's clock, the one time every node agrees on.
// Counts by queue and state are kept by statement triggers into rows sharded by backend, so
// concurrent writers on different connections never wait on one hot counter row.
import type { Sql } from './pool.js';

const V1 = `
CREATE FUNCTION aq_now_ms() RETURNS bigint LANGUAGE sql STABLE AS
  $$ SELECT (extract(epoch FROM statement_timestamp()) * 1000)::bigint $$;
-- The counter shard of this connection: writers on different connections update different rows.
CREATE FUNCTION aq_shard() RETURNS int LANGUAGE sql STABLE AS $$ SELECT pg_backend_pid() % 64 $$;

CREATE TABLE tasks (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id text NOT NULL UNIQUE,
  queue text NOT NULL,
  status text NOT NULL,
  target_url text NOT NULL,
  method text NOT NULL,
  headers text NOT NULL,
  payload text NOT NULL,
  webhook_url text,
  webhook_retries int NOT NULL,
  retries int NOT NULL,
  timeout_ms int NOT NULL,
  backoff text NOT NULL,
  priority int NOT NULL,
  idempotency_key text,
  labels text NOT NULL,
  attempts int NOT NULL DEFAULT 0,
  attempts_base int NOT NULL DEFAULT 0,
  run_at bigint NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  completed_at bigint,
  result text,
  error text,
  webhook_status text,
  webhook_attempts int NOT NULL DEFAULT 0,
  -- webhook_attempts at the last re-delivery; outcomes: the task's ends in completed or failed (api.md §16)
  webhook_attempts_base int NOT NULL DEFAULT 0,
  outcomes int NOT NULL DEFAULT 0,
  webhook_run_at bigint,
  webhook_error text,
  schedule_id text,
  -- what a /v2 (QStash) task keeps of its request (api.md §14), JSON
  qstash text,
  -- the node running the current attempt (set by a claim) and that claim's token (to release a
  -- claim whose answer was lost with the connection), and the node sending the webhook
  claimed_by text,
  claim_token bigint,
  webhook_claimed_by text,
  webhook_claim_token bigint
);
CREATE UNIQUE INDEX tasks_idempotency ON tasks (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX tasks_due ON tasks (queue, priority DESC, run_at) WHERE status = 'pending';
CREATE INDEX tasks_pending_run_at ON tasks (queue, run_at) WHERE status = 'pending';
CREATE INDEX tasks_status ON tasks (status, seq);
CREATE INDEX tasks_expiry ON tasks (completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX tasks_webhook_due ON tasks (webhook_run_at) WHERE webhook_status = 'pending';
CREATE INDEX tasks_queue_seq ON tasks (queue, seq);
CREATE INDEX tasks_queue_failed ON tasks (queue, seq) WHERE status = 'failed';
CREATE INDEX tasks_running_owner ON tasks (claimed_by) WHERE status = 'running';
CREATE INDEX tasks_sending_owner ON tasks (webhook_claimed_by) WHERE webhook_status = 'sending';
CREATE INDEX tasks_schedule ON tasks (schedule_id, seq) WHERE schedule_id IS NOT NULL;
CREATE INDEX tasks_webhook_failed ON tasks (seq) WHERE webhook_status = 'failed';

CREATE TABLE task_labels (label text NOT NULL, seq bigint NOT NULL, PRIMARY KEY (label, seq));
CREATE INDEX task_labels_seq ON task_labels (seq);

CREATE TABLE attempts (
  task_id text NOT NULL,
  n int NOT NULL,
  started_at bigint NOT NULL,
  duration_ms bigint,
  status int,
  error text,
  PRIMARY KEY (task_id, n)
);

-- every webhook delivery attempt (api.md §16); duration_ms null while in flight
CREATE TABLE deliveries (
  task_id text NOT NULL,
  outcome int NOT NULL,
  attempt int NOT NULL,
  started_at bigint NOT NULL,
  duration_ms bigint,
  status int,
  error text,
  PRIMARY KEY (task_id, outcome, attempt)
);

CREATE TABLE queues (
  name text PRIMARY KEY,
  concurrency int,
  rate_per_second double precision,
  paused boolean NOT NULL DEFAULT false,
  created_at bigint NOT NULL,
  -- the cluster's token bucket for rate_per_second (null: full)
  tokens double precision,
  tokens_at bigint
);

CREATE TABLE settings (key text PRIMARY KEY, value text NOT NULL);

CREATE TABLE counts (queue text NOT NULL, status text NOT NULL, shard int NOT NULL, n bigint NOT NULL, PRIMARY KEY (queue, status, shard));

CREATE TABLE minute_stats (
  minute bigint NOT NULL,
  shard int NOT NULL,
  dispatched bigint NOT NULL DEFAULT 0,
  completed bigint NOT NULL DEFAULT 0,
  failed bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (minute, shard)
);

CREATE TABLE schedules (
  id text PRIMARY KEY,
  cron text NOT NULL,
  timezone text,
  task text NOT NULL,
  paused boolean NOT NULL DEFAULT false,
  catch_up text NOT NULL DEFAULT 'latest',
  catch_up_max int NOT NULL DEFAULT 10,
  last_fire_at bigint,
  next_fire_at bigint,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL
);
CREATE INDEX schedules_next ON schedules (next_fire_at) WHERE NOT paused;

-- URL groups (QStash topics, api.md §14): one row per endpoint; a group exists while it has endpoints.
CREATE TABLE url_group_endpoints (
  group_name text NOT NULL,
  url text NOT NULL,
  name text,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (group_name, url)
);

-- Counts follow every statement that inserts, updates or deletes tasks, in that statement's
-- transaction; rows are upserted in key order so two writers never lock them crosswise.
CREATE FUNCTION aq_counts_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO counts AS c (queue, status, shard, n)
    SELECT queue, status, aq_shard(), count(*) FROM new_rows GROUP BY queue, status ORDER BY queue, status
  ON CONFLICT (queue, status, shard) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END $$;
CREATE FUNCTION aq_counts_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO counts AS c (queue, status, shard, n)
    SELECT queue, status, aq_shard(), sum(d) FROM (
      SELECT queue, status, -1 AS d FROM old_rows UNION ALL SELECT queue, status, 1 AS d FROM new_rows
    ) x GROUP BY queue, status HAVING sum(d) <> 0 ORDER BY queue, status
  ON CONFLICT (queue, status, shard) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END $$;
CREATE FUNCTION aq_counts_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO counts AS c (queue, status, shard, n)
    SELECT queue, status, aq_shard(), -count(*) FROM old_rows GROUP BY queue, status ORDER BY queue, status
  ON CONFLICT (queue, status, shard) DO UPDATE SET n = c.n + excluded.n;
  RETURN NULL;
END $$;
CREATE TRIGGER tasks_counts_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION aq_counts_insert();
CREATE TRIGGER tasks_counts_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION aq_counts_update();
CREATE TRIGGER tasks_counts_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION aq_counts_delete();
`;

/** Dashboard sessions ended by logout (SQLite migration 5): the random session id, never the token. */
const V2 = `
CREATE TABLE revoked_sessions (id text PRIMARY KEY, expires_at bigint NOT NULL);
`;

/**
 * Async completion (api.md §10), as in SQLite's migration 6: a task's async settings, its open
 * attempt after a 202 (meaningful only while the task is running), how each async attempt ended,
 * and the Retry-After delay of each answer (for the plan of §11).
 */
const V3 = `
ALTER TABLE tasks ADD COLUMN async_timeout_ms bigint, ADD COLUMN async_heartbeat_ms bigint,
  ADD COLUMN awaiting_since bigint, ADD COLUMN awaiting_deadline bigint, ADD COLUMN awaiting_heartbeat_at bigint;
CREATE INDEX tasks_awaiting_deadline ON tasks (awaiting_deadline) WHERE status = 'running' AND awaiting_since IS NOT NULL;
-- open attempts of a queue, subtracted from its running count by limited claims (they hold no slot)
CREATE INDEX tasks_awaiting_queue ON tasks (queue) WHERE status = 'running' AND awaiting_since IS NOT NULL;
ALTER TABLE attempts ADD COLUMN retry_after_ms bigint, ADD COLUMN accepted_at bigint, ADD COLUMN ended text,
  ADD COLUMN ended_at bigint, ADD COLUMN heartbeat_at bigint;
-- A cancel (one task or many) of a task with an open async attempt closes that attempt's record.
CREATE FUNCTION aq_async_cancel() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE attempts SET duration_ms = GREATEST(0, NEW.updated_at - started_at), error = NEW.error, ended = 'cancelled',
    ended_at = NEW.updated_at, heartbeat_at = OLD.awaiting_heartbeat_at
    WHERE task_id = NEW.id AND n = NEW.attempts AND ended IS NULL;
  NEW.awaiting_since := NULL;
  NEW.awaiting_deadline := NULL;
  NEW.awaiting_heartbeat_at := NULL;
  RETURN NEW;
END $$;
CREATE TRIGGER tasks_async_cancel BEFORE UPDATE OF status ON tasks FOR EACH ROW
  WHEN (OLD.status = 'running' AND NEW.status = 'cancelled' AND OLD.awaiting_since IS NOT NULL)
  EXECUTE FUNCTION aq_async_cancel();
`;

/**
 * Flow control by key (api.md §12), as in SQLite's migration 7: a task's concurrencyKey, a
 * queue's keyConcurrency and its key cursor (the key last served; read and moved by claims that
 * hold the queue row locked). Both indexes are partial on keyed tasks: unkeyed tasks cost them nothing.
 */
const KEYS = `
ALTER TABLE tasks ADD COLUMN concurrency_key text;
ALTER TABLE queues ADD COLUMN key_concurrency int, ADD COLUMN key_cursor text;
CREATE INDEX tasks_key_due ON tasks (queue, concurrency_key, priority DESC, run_at) WHERE status = 'pending' AND concurrency_key IS NOT NULL;
CREATE INDEX tasks_key_running ON tasks (queue, concurrency_key) WHERE status = 'running' AND concurrency_key IS NOT NULL;
`;

/**
 * Several nodes (api.md §9): the nodes with their heartbeats (database time), the leader's lease,
 * and NOTIFY of every task state change, queue change and schedule change, so every node's event
 * stream, limits and schedule runner follow the others at once.
 *
 * aq_tasks payloads are text, one line per part: the committing node (the connection's
 * `aq.node` setting, empty when unset), then one JSON array [id, queue, status, attempts, at ms]
 * per changed task. A statement's changes are split into notifications of about 7,000 bytes
 * (NOTIFY's limit is 8,000); a line over 900 bytes is left out (ids and queue names are far
 * shorter). A delete of a pending or running task is announced as its cancel. While only one node
 * is registered nothing is sent (a single node pays no NOTIFY).
 */
const CLUSTER = `
CREATE TABLE nodes (
  id text PRIMARY KEY,
  name text NOT NULL,
  started_at bigint NOT NULL,
  heartbeat_at bigint NOT NULL,
  in_flight int NOT NULL DEFAULT 0
);
-- one row: the leader's lease, renewed with its heartbeat and taken over once expired (database time)
CREATE TABLE leader (
  id int PRIMARY KEY CHECK (id = 1),
  node_id text NOT NULL,
  expires_at bigint NOT NULL
);

CREATE FUNCTION aq_origin() RETURNS text LANGUAGE sql STABLE AS $$ SELECT left(COALESCE(current_setting('aq.node', true), ''), 100) $$;
-- Nobody to tell while this is the only node (nodes register before they serve): no notification at all.
CREATE FUNCTION aq_others_listen() RETURNS boolean LANGUAGE sql STABLE AS $$ SELECT EXISTS (SELECT 1 FROM nodes OFFSET 1) $$;
-- Sends lines (each starting with a newline) as notifications of at most ~7,000 bytes plus one line;
-- a line over 900 bytes is left out (ids and queue names are far shorter), so none reaches 8,000.
CREATE FUNCTION aq_notify_parts(origin text, lines text[]) RETURNS void LANGUAGE sql AS $$
  SELECT count(pg_notify('aq_tasks', origin || p.body)) FROM (
    SELECT string_agg(l.line, '' ORDER BY l.i) AS body
    FROM (SELECT line, i, sum(octet_length(line)) OVER (ORDER BY i) AS upto
          FROM unnest(lines) WITH ORDINALITY AS u(line, i) WHERE octet_length(line) < 900) l
    GROUP BY (l.upto - 1) / 7000
  ) p
$$;

CREATE FUNCTION aq_notify_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF aq_others_listen() THEN
    PERFORM aq_notify_parts(aq_origin(), (SELECT array_agg(chr(10) || '[' || to_json(id) || ',' || to_json(queue) || ',"' || status || '",'
      || attempts || ',' || created_at || ']' ORDER BY seq) FROM new_rows));
  END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION aq_notify_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF aq_others_listen() THEN
    PERFORM aq_notify_parts(aq_origin(), (SELECT array_agg(chr(10) || '[' || to_json(n.id) || ',' || to_json(n.queue) || ',"' || n.status || '",'
      || n.attempts || ',' || n.updated_at || ']' ORDER BY n.seq)
      FROM new_rows n JOIN old_rows o ON o.seq = n.seq WHERE n.status <> o.status OR n.attempts <> o.attempts));
  END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION aq_notify_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF aq_others_listen() THEN
    PERFORM aq_notify_parts(aq_origin(), (SELECT array_agg(chr(10) || '[' || to_json(id) || ',' || to_json(queue) || ',"cancelled",'
      || attempts || ',' || aq_now_ms() || ']' ORDER BY seq) FROM old_rows WHERE status IN ('pending', 'running')));
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER tasks_notify_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION aq_notify_insert();
CREATE TRIGGER tasks_notify_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION aq_notify_update();
CREATE TRIGGER tasks_notify_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION aq_notify_delete();

-- queue settings (pause, limits; not the rate bucket's tokens) and schedules: 'queues' or
-- 'schedules' on aq_changes, once per statement that changed a row
CREATE FUNCTION aq_notify_queues_rows() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM changed_rows) THEN PERFORM pg_notify('aq_changes', 'queues'); END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION aq_notify_queues_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.name = n.name
             WHERE n.paused <> o.paused OR n.concurrency IS DISTINCT FROM o.concurrency OR n.rate_per_second IS DISTINCT FROM o.rate_per_second
               OR n.key_concurrency IS DISTINCT FROM o.key_concurrency) THEN
    PERFORM pg_notify('aq_changes', 'queues');
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER queues_notify_insert AFTER INSERT ON queues REFERENCING NEW TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION aq_notify_queues_rows();
CREATE TRIGGER queues_notify_delete AFTER DELETE ON queues REFERENCING OLD TABLE AS changed_rows
  FOR EACH STATEMENT EXECUTE FUNCTION aq_notify_queues_rows();
CREATE TRIGGER queues_notify_update AFTER UPDATE ON queues REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION aq_notify_queues_update();
CREATE FUNCTION aq_notify_schedules() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('aq_changes', 'schedules');
  RETURN NULL;
END $$;
CREATE TRIGGER schedules_notify AFTER INSERT OR UPDATE OR DELETE ON schedules FOR EACH ROW EXECUTE FUNCTION aq_notify_schedules();
`;

/**
 * Batches and chains (api.md §13), as in SQLite's migration 8. A batch row counts its tasks by
 * state; statement triggers keep the counts in the transaction of every update or delete of
 * tasks (claims, finishes, cancel, retry, bulk actions, async ends, recovery), locking the
 * batch rows in id order so concurrent writers never take them crosswise. When the last member
 * becomes terminal the same statement marks the batch done, counts the time (`outcomes`: the n
 * of `webhook-id: <batch id>.<n>`), keeps the counts of that moment for the webhook body and
 * opens its delivery (an outbox); a member made pending again reopens it. Creates add to
 * `total` and `pending` themselves.
 */
const BATCHES = `
ALTER TABLE tasks ADD COLUMN batch_id text, ADD COLUMN parent_id text, ADD COLUMN next_task_id text, ADD COLUMN chain text;
CREATE INDEX tasks_batch ON tasks (batch_id, seq) WHERE batch_id IS NOT NULL;
CREATE TABLE batches (
  id text PRIMARY KEY,
  webhook_url text,
  labels text NOT NULL DEFAULT '[]',
  total int NOT NULL DEFAULT 0,
  pending int NOT NULL DEFAULT 0,
  running int NOT NULL DEFAULT 0,
  completed int NOT NULL DEFAULT 0,
  failed int NOT NULL DEFAULT 0,
  cancelled int NOT NULL DEFAULT 0,
  created_at bigint NOT NULL,
  done_at bigint,
  outcomes int NOT NULL DEFAULT 0,
  last_done_at bigint,
  done_total int,
  done_completed int,
  done_failed int,
  done_cancelled int,
  webhook_status text,
  webhook_attempts int NOT NULL DEFAULT 0,
  webhook_attempts_base int NOT NULL DEFAULT 0,
  webhook_run_at bigint,
  webhook_error text,
  webhook_claimed_by text,
  webhook_claim_token bigint
);
CREATE INDEX batches_webhook_due ON batches (webhook_run_at) WHERE webhook_status = 'pending';
CREATE INDEX batches_sending_owner ON batches (webhook_claimed_by) WHERE webhook_status = 'sending';

-- d: per batch, the change of each count and the time of the change
CREATE FUNCTION aq_batches_apply(d jsonb) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM batches WHERE id IN (SELECT x.b FROM jsonb_to_recordset(d) AS x(b text)) ORDER BY id FOR UPDATE;
  UPDATE batches t SET
    total = t.total + x.dt, pending = t.pending + x.dp, running = t.running + x.dr,
    completed = t.completed + x.dc, failed = t.failed + x.df, cancelled = t.cancelled + x.dx,
    done_at = CASE WHEN t.pending + x.dp + t.running + x.dr > 0 THEN NULL WHEN t.done_at IS NULL THEN x.at ELSE t.done_at END,
    outcomes = t.outcomes + CASE WHEN t.done_at IS NULL AND t.pending + x.dp + t.running + x.dr = 0 THEN 1 ELSE 0 END,
    last_done_at = CASE WHEN t.done_at IS NULL AND t.pending + x.dp + t.running + x.dr = 0 THEN x.at ELSE t.last_done_at END,
    done_total = CASE WHEN t.done_at IS NULL AND t.pending + x.dp + t.running + x.dr = 0 THEN t.total + x.dt ELSE t.done_total END,
    done_completed = CASE WHEN t.done_at IS NULL AND t.pending + x.dp + t.running + x.dr = 0 THEN t.completed + x.dc ELSE t.done_completed END,
    done_failed = CASE WHEN t.done_at IS NULL AND t.pending + x.dp + t.running + x.dr = 0 THEN t.failed + x.df ELSE t.done_failed END,
    done_cancelled = CASE WHEN t.done_at IS NULL AND t.pending + x.dp + t.running + x.dr = 0 THEN t.cancelled + x.dx ELSE t.done_cancelled END,
    webhook_status = CASE WHEN t.done_at IS NULL AND t.pending + x.dp + t.running + x.dr = 0 AND t.webhook_url IS NOT NULL THEN 'pending' ELSE t.webhook_status END,
    webhook_run_at = CASE WHEN t.done_at IS NULL AND t.pending + x.dp + t.running + x.dr = 0 AND t.webhook_url IS NOT NULL THEN x.at ELSE t.webhook_run_at END,
    webhook_attempts = CASE WHEN t.done_at IS NULL AND t.pending + x.dp + t.running + x.dr = 0 THEN 0 ELSE t.webhook_attempts END,
    webhook_attempts_base = CASE WHEN t.done_at IS NULL AND t.pending + x.dp + t.running + x.dr = 0 THEN 0 ELSE t.webhook_attempts_base END,
    webhook_error = CASE WHEN t.done_at IS NULL AND t.pending + x.dp + t.running + x.dr = 0 THEN NULL ELSE t.webhook_error END,
    webhook_claimed_by = CASE WHEN t.done_at IS NULL AND t.pending + x.dp + t.running + x.dr = 0 THEN NULL ELSE t.webhook_claimed_by END
  FROM jsonb_to_recordset(d) AS x(b text, dt int, dp int, dr int, dc int, df int, dx int, at bigint)
  WHERE t.id = x.b;
END $$;
CREATE FUNCTION aq_batches_update() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d jsonb;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows WHERE batch_id IS NOT NULL) THEN RETURN NULL; END IF;
  SELECT jsonb_agg(y) INTO d FROM (
    SELECT batch_id AS b, 0 AS dt,
      coalesce(sum(n) FILTER (WHERE status = 'pending'), 0) AS dp, coalesce(sum(n) FILTER (WHERE status = 'running'), 0) AS dr,
      coalesce(sum(n) FILTER (WHERE status = 'completed'), 0) AS dc, coalesce(sum(n) FILTER (WHERE status = 'failed'), 0) AS df,
      coalesce(sum(n) FILTER (WHERE status = 'cancelled'), 0) AS dx, max(at) AS at
    FROM (
      SELECT batch_id, status, -1 AS n, NULL::bigint AS at FROM old_rows WHERE batch_id IS NOT NULL
      UNION ALL SELECT batch_id, status, 1, updated_at FROM new_rows WHERE batch_id IS NOT NULL
    ) c GROUP BY batch_id
  ) y WHERE dp <> 0 OR dr <> 0 OR dc <> 0 OR df <> 0 OR dx <> 0;
  IF d IS NOT NULL THEN PERFORM aq_batches_apply(d); END IF;
  RETURN NULL;
END $$;
CREATE FUNCTION aq_batches_delete() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE d jsonb;
BEGIN
  SELECT jsonb_agg(y) INTO d FROM (
    SELECT batch_id AS b, -count(*) AS dt,
      -count(*) FILTER (WHERE status = 'pending') AS dp, -count(*) FILTER (WHERE status = 'running') AS dr,
      -count(*) FILTER (WHERE status = 'completed') AS dc, -count(*) FILTER (WHERE status = 'failed') AS df,
      -count(*) FILTER (WHERE status = 'cancelled') AS dx, aq_now_ms() AS at
    FROM old_rows WHERE batch_id IS NOT NULL GROUP BY batch_id
  ) y;
  IF d IS NOT NULL THEN PERFORM aq_batches_apply(d); END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER tasks_batches_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION aq_batches_update();
CREATE TRIGGER tasks_batches_delete AFTER DELETE ON tasks REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION aq_batches_delete();
`;

/**
 * The node that opened each delivery attempt (of a task's webhook or a batch's batch.done), so
 * that a node's recovery and the leader's rescue of a dead node close every open attempt it left,
 * also one of a delivery superseded while in flight (its task retried, its batch done again),
 * which no claim column points at any more. Open attempts are indexed by that node.
 */
const DELIVERY_OWNER = `
ALTER TABLE deliveries ADD COLUMN claimed_by text;
CREATE INDEX deliveries_open ON deliveries (claimed_by) WHERE duration_ms IS NULL;
`;

/** Migration n brings the schema from version n-1 to n. */
export const MIGRATIONS: readonly string[] = [V1, V2, V3, KEYS, CLUSTER, BATCHES, DELIVERY_OWNER];
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Advisory lock key for migrations ("aqmigr" as a number); per database, held for one transaction. */
const LOCK_KEY = 0x61716d696772;

export class SchemaTooNewError extends Error {
  override name = 'SchemaTooNewError';
}

/**
 * Brings the schema up to date in one transaction under an advisory lock (concurrent starters
 * wait, then find nothing to do); refuses a schema newer than this build. Returns the version.
 */
export async function migrate(tx: <T>(fn: (sql: Sql) => Promise<T>) => Promise<T>): Promise<number> {
  return tx(async (sql) => {
    await sql.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
    await sql.query('CREATE TABLE IF NOT EXISTS aq_schema (version int NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now())');
    const [row] = await sql.query<{ v: number | null }>('SELECT max(version) AS v FROM aq_schema');
    const current = row?.v ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new SchemaTooNewError(
        `this database has schema version ${current}, but this AsyncQueue only knows up to ${SCHEMA_VERSION}; upgrade AsyncQueue (the database was not changed)`,
      );
    }
    for (let v = current; v < SCHEMA_VERSION; v++) {
      await sql.query(MIGRATIONS[v]!);
      await sql.query('INSERT INTO aq_schema (version) VALUES ($1)', [v + 1]);
    }
    return SCHEMA_VERSION;
  });
}
