// The store's interface: everything the API and the dispatcher may ask of persistence.
// Methods return Promises so another backend (PostgreSQL) can implement it unchanged;
// the SQLite store lives in ./sqlite/. Results, not HTTP: undefined for "not found",
// `{ ok: false, reason }` for a refused transition.
import type { NewTask } from '../shared/defaults.js';
import type { ExportBatch, ImportItem } from '../shared/transfer.js';
import type { QstashMeta, UrlGroup, UrlGroupEndpoint } from '../shared/qstash.js';
import type { StoreSignals } from './signals.js';
import type { Attempt, Batch, BulkFilter, Delivery, Queue, QueueUpdate, RedeliverFilter, Schedule, Stats, Task, TaskError, TaskStatus } from '../shared/types.js';

export type { NewTask };

/**
 * Tasks read from a store carry their attempts_base under this symbol (not part of the wire
 * object: JSON never shows it): attempts − attemptsBase count against `retries` (api.md §11).
 */
export const ATTEMPTS_BASE: unique symbol = Symbol('attemptsBase');

/** The attempts made before the task's last manual retry (0 when the store did not say). */
export function attemptsBaseOf(task: Task): number {
  return (task as Task & { [ATTEMPTS_BASE]?: number })[ATTEMPTS_BASE] ?? 0;
}

export interface CreateResult {
  task: Task;
  /** False when an idempotency key matched an existing task (nothing was created). */
  created: boolean;
}

export interface ListFilter {
  status?: TaskStatus;
  queue?: string;
  label?: string;
  /** Tasks created by this schedule. */
  scheduleId?: string;
  /** Tasks of this batch (api.md §13). */
  batchId?: string;
  /**
   * Tasks whose payload has `payloadValue` (compared as text) at `payloadField`, a dot path such
   * as `jobId` or `customer.id`. A bounded scan, not an index: each page looks at no more than
   * PAYLOAD_SCAN_LIMIT of the newest tasks matching the other filters, so a page may hold fewer
   * than `limit` tasks, even none, with a `nextCursor` that goes on with the next older ones.
   */
  payloadField?: string;
  payloadValue?: string;
  /** Max tasks returned (1–500). */
  limit: number;
  /** Opaque cursor from a previous page; decoded by the store. */
  cursor?: string;
}

/** Tasks one page of a payload search looks at (ListFilter.payloadField). */
export const PAYLOAD_SCAN_LIMIT = 10_000;

export type Refusal = { ok: false; reason: 'not_found' | 'conflict' };
export type Transition = { ok: true; task: Task; /** Status before the change. */ previous: TaskStatus } | Refusal;

/** A task changed by a bulk action, for events and aborts. */
export interface ChangedTask {
  id: string;
  queue: string;
  attempts: number;
  previous: TaskStatus;
}

export interface BulkResult {
  count: number;
  changed: ChangedTask[];
}

/** A task claimed for an attempt: what delivery needs, nothing more. */
export interface ClaimedTask {
  seq: number;
  id: string;
  queue: string;
  targetUrl: string;
  method: Task['method'];
  headers: Record<string, string>;
  payloadJson: string;
  timeoutMs: number;
  retries: number;
  backoff: Task['backoff'];
  /** Whether a webhook follows the task's end. */
  hasWebhook: boolean;
  /** The attempt being made, 1-based over the task's whole life. */
  attempt: number;
  /** Attempts made before the last manual retry; `attempt - attemptsBase` counts against `retries`. */
  attemptsBase: number;
  startedAt: number;
  /** When the task was created (ms). */
  createdAt: number;
  scheduleId: string | null;
  /** Set for a `/v2` (QStash) task: how to send it and what follows it. */
  qstash: QstashMeta | null;
  /** api.md §10 in ms; null for an ordinary task. A 202 to an async task keeps the attempt open. */
  async: AsyncMs | null;
  /** The task's batch (api.md §13), null when it has none: its end may make the batch done (and due a webhook). */
  batchId: string | null;
  /** Whether the task has `then` / `onFailure` steps (its finish then creates a task: AttemptFinish.hasChain). */
  hasChain: boolean;
}

/** A batch as the store receives it (api.md §13); its tasks carry its id in `batchId`. */
/** Of exported tasks: the stored chain steps (JSON) and webhook outcome count by task id, and their batches by batch id. */
export interface ExportDetails {
  tasks: Map<string, { chainJson: string | null; outcomes: number }>;
  batches: Map<string, ExportBatch>;
}

export interface NewBatch {
  id: string;
  webhookUrl: string | null;
  labels: string[];
  /** ms */
  createdAt: number;
}

/** A task's async settings in ms: how long after its 202 the target may take, and the heartbeat interval (null = none). */
export interface AsyncMs {
  timeoutMs: number;
  heartbeatMs: number | null;
}

/** An async task's attempt that the target answered 202 (api.md §10): it stays open until `deadline`. */
export interface AttemptAccept {
  id: string;
  attempt: number;
  startedAt: number;
  /** When the 202 arrived (ms). */
  now: number;
  /** When the open attempt times out unless it ends or (with a heartbeat) is heartbeated (ms). */
  deadline: number;
}

/** How an open async attempt ends: the target's complete or fail, or its deadline passing. */
export interface AsyncEnd {
  id: string;
  attempt: number;
  ended: 'completed' | 'failed' | 'timeout';
  /** The task's next state, as decided by dispatch/async-decide.ts. */
  next: AttemptFinish['next'];
  now: number;
  /** Set by the store: the task a `then` / `onFailure` step created in this end's transaction (api.md §13). */
  chained?: NewTask;
}

/** What the completion routes and the deadline check need of a task and one of its attempts (times in ms). */
export interface AsyncAttemptState {
  id: string;
  queue: string;
  status: TaskStatus;
  /** Attempts started so far (the latest attempt's number). */
  attempts: number;
  attemptsBase: number;
  retries: number;
  backoff: Task['backoff'];
  async: AsyncMs | null;
  hasWebhook: boolean;
  /** The latest attempt's 202, while it is open; null before its 202 or when it is not running. */
  awaiting: { since: number; deadline: number; heartbeatAt: number | null } | null;
  /** How the asked-for attempt ended, if its record says (async attempts only); null otherwise. */
  ended: 'completed' | 'failed' | 'timeout' | 'cancelled' | null;
}

/** How an attempt ended, as decided by dispatch/decide.ts. */
export interface AttemptFinish {
  id: string;
  attempt: number;
  startedAt: number;
  durationMs: number;
  httpStatus?: number;
  error?: TaskError;
  /** The delay (ms) a Retry-After header of the answer asked for, capped by backoff.max (for the plan, api.md §11). */
  retryAfterMs?: number;
  /** The task's next state; ignored (attempt still recorded) when the task is no longer running this attempt. */
  next:
    | { status: 'completed'; resultJson: string | null }
    | { status: 'failed'; error: TaskError }
    | { status: 'pending'; runAt: number; error: TaskError };
  now: number;
  /** Tasks created in the same transaction when (and only when) the decision is applied (QStash callbacks). */
  followUps?: NewTask[];
  /**
   * The task has `then` / `onFailure` steps (ClaimedTask.hasChain): a store that otherwise writes
   * a finish outside a transaction must use one, so the step's task is created with the end.
   */
  hasChain?: boolean;
  /** Set by the store: the task a `then` / `onFailure` step created in this finish's transaction (api.md §13). */
  chained?: NewTask;
  /** The task's batch (ClaimedTask.batchId), if any. */
  batchId?: string | null;
  /** Set by the store: this finish made the task's batch done, with its `batch.done` webhook due. */
  batchDone?: boolean;
}

/** A claimed task whose request never started (api.md §12): pending again at `runAt` (ms), its claim's attempt taken back. */
export interface TaskUnclaim {
  id: string;
  /** The claimed attempt. */
  attempt: number;
  runAt: number;
}

/** A claimed webhook delivery that was never sent: pending again at `runAt` (ms). */
export interface DeliveryUnclaim {
  id: string;
  outcome: number;
  attempt: number;
  runAt: number;
}

/** A webhook delivery claimed for sending. */
export interface ClaimedDelivery {
  /** The task's id, or the batch's for a `batch.done` webhook (`kind: 'batch'`). */
  id: string;
  /** A task's outcome webhook (§5) or a batch's `batch.done` (§13); absent means `task`. */
  kind?: 'task' | 'batch';
  webhookUrl: string;
  /** The §5 webhook body, already JSON-encoded. */
  bodyJson: string;
  /** Which of the task's outcomes this delivers, from 1 (api.md §16: `webhook-id: <id>.<outcome>`). */
  outcome: number;
  /** The delivery attempt, 1-based within its outcome. */
  attempt: number;
  /** Attempts made before the last re-delivery; `attempt - attemptsBase` counts against `webhookRetries`. */
  attemptsBase: number;
  startedAt: number;
  webhookRetries: number;
  timeoutMs: number;
  backoff: Task['backoff'];
}

export interface DeliveryFinish {
  id: string;
  /** The claimed outcome and attempt: a finish for any other (the task was retried or re-delivered since) records nothing. */
  outcome: number;
  attempt: number;
  durationMs: number;
  httpStatus?: number;
  next: { status: 'delivered' } | { status: 'failed'; error: TaskError } | { status: 'pending'; runAt: number; error: TaskError };
  now: number;
}

/** Why a re-delivery was refused: no such task, or not completed/failed with a webhookUrl. */
export type RedeliverResult = { ok: true; task: Task } | Refusal;
/** Why a batch's re-delivery was refused: no such batch, or not done with a webhookUrl. */
export type BatchRedeliverResult = { ok: true; batch: Batch } | Refusal;

/** Per-queue limits as the scheduler needs them. */
export interface QueueLimits {
  name: string;
  concurrency: number | null;
  ratePerSecond: number | null;
  /** Max attempts in flight per concurrencyKey (api.md §12); null = none, and no turns between keys. */
  keyConcurrency: number | null;
  paused: boolean;
}

/** A schedule as the store writes it: validated, defaults applied, times in ms. */
export type ScheduleWrite = Omit<Schedule, 'lastFireAt' | 'nextFireAt' | 'createdAt' | 'updatedAt'> & {
  /** next_fire_at for a new schedule or when cron, timezone or paused change; otherwise the stored one is kept. */
  nextFireAt: number | null;
};

/** A schedule due to fire, as the schedule runner needs it (times in ms). */
export type DueSchedule = Omit<ScheduleWrite, 'paused' | 'nextFireAt'> & { nextFireAt: number; updatedAt: number };

/** One firing: tasks to create and the schedule's new times, in one transaction. */
export interface ScheduleFiring {
  id: string;
  tasks: NewTask[];
  /** The latest slot fired (ms); null (nothing fired) keeps last_fire_at, which never moves back. */
  lastFireAt: number | null;
  /** The new next_fire_at; undefined keeps it (a manual trigger). */
  nextFireAt?: number | null;
  /** Write nothing unless the schedule is unpaused and still at this next_fire_at and updated_at. */
  expect?: { nextFireAt: number; updatedAt: number };
}

/** What a node tells the cluster with each heartbeat (api.md §9). */
export interface NodeBeat {
  id: string;
  name: string;
  /** When this node started (ms). */
  startedAt: number;
  /** Attempts in flight on this node now. */
  inFlight: number;
  /** True for the first beat after a start (the stored startedAt is replaced). */
  first: boolean;
}

/** A node as GET /v1/cluster shows it (times in ms). */
export interface ClusterNode {
  id: string;
  name: string;
  startedAt: number;
  heartbeatAt: number;
  inFlight: number;
  /** Holds an unexpired leader lease and is alive; never true for a dead node. */
  leader: boolean;
  /** Its heartbeat is younger than the node timeout. */
  alive: boolean;
}

export interface Store {
  /**
   * Every task state change this store commits, announced right after its transaction commits
   * (before the disk sync an acknowledged write waits for), in commit order: the one origin of
   * task events (src/store/signals.ts). A new state change in a store module announces itself
   * there (SQLite: ctx.signal() inside the write; PostgreSQL: ctx.signal() after the commit).
   */
  readonly signals: StoreSignals;
  // tasks
  /**
   * Stores tasks durably; resolves once they are on disk. `onCommitted` runs as soon as they are
   * committed and visible (before the disk sync), so events about them keep their order.
   */
  createTasks(tasks: NewTask[], onCommitted?: (results: CreateResult[]) => void, batch?: NewBatch): Promise<CreateResult[]>;
  getTask(id: string): Promise<Task | undefined>;
  /** A batch with its counts (one indexed read, api.md §13); undefined when there is no such batch. */
  getBatch(id: string): Promise<Batch | undefined>;
  listTasks(filter: ListFilter): Promise<{ tasks: Task[]; nextCursor: string | null }>;
  listAttempts(id: string): Promise<Attempt[] | undefined>;
  cancelTask(id: string, now: number): Promise<Transition>;
  retryTask(id: string, now: number): Promise<Transition>;
  deleteTask(id: string, now: number): Promise<{ ok: true; previous: TaskStatus } | Refusal>;
  /** Cancels every pending or running task matching the filter. */
  cancelMany(filter: BulkFilter, now: number): Promise<BulkResult>;
  /** Makes every failed or cancelled task matching the filter pending again. */
  retryMany(filter: BulkFilter, now: number): Promise<BulkResult>;
  // queues and stats
  listQueues(): Promise<Queue[]>;
  getQueue(name: string): Promise<Queue | undefined>;
  updateQueue(name: string, update: QueueUpdate, now: number): Promise<Queue>;
  /** Removes a queue's row (its settings); false when it does not exist or still has pending or running tasks. */
  deleteQueue(name: string): Promise<boolean>;
  queueLimits(): Promise<QueueLimits[]>;
  stats(now: number): Promise<Stats>;
  // dispatch
  /** Claims up to `perQueue[name]` due tasks of each queue, in one transaction. */
  claimTasks(perQueue: Map<string, number>, now: number): Promise<ClaimedTask[]>;
  /** Attempts in flight (on every node) of each of `keys` in `queue` (api.md §12); open async attempts hold none. Keys with none are left out. */
  keysInFlight(queue: string, keys: string[]): Promise<Map<string, number>>;
  /** Those of `queues` with a task due at `now`, for fair allocation. */
  dueQueues(queues: string[], now: number): Promise<string[]>;
  /**
   * Gives back claimed tasks whose request never started (their origin's circuit is open or its
   * limit full, api.md §12): pending again at `runAt`, the attempt not counted, no attempt row.
   * Guarded by status and attempt (and owner); true where applied.
   */
  unclaimTasks(items: TaskUnclaim[], now: number): Promise<boolean[]>;
  /** The same for claimed webhook deliveries: pending again at `runAt`, the delivery attempt and its open history row taken back. */
  unclaimDeliveries(items: DeliveryUnclaim[]): Promise<void>;
  /** Records attempts and applies their decisions; true where the task was still running that attempt. */
  finishAttempts(results: AttemptFinish[]): Promise<boolean[]>;
  /** Earliest run time (ms) of a pending task in any of `queues`; null if none. */
  nextDueAt(queues: string[]): Promise<number | null>;
  /** Earliest run time (ms) of a pending webhook delivery; null if none. */
  nextDeliveryAt(): Promise<number | null>;
  claimDeliveries(limit: number, now: number): Promise<ClaimedDelivery[]>;
  /** Records each delivery attempt in the history and applies its decision, guarded by outcome and attempt. */
  finishDeliveries(results: DeliveryFinish[]): Promise<void>;
  /** Every delivery attempt of a task, oldest first (one in flight has durationMs null); undefined when there is no such task. */
  listDeliveries(id: string): Promise<Delivery[] | undefined>;
  /**
   * Sends the task's latest outcome again, due now, with a fresh `webhookRetries` (api.md §16);
   * refused (`conflict`) unless it is completed or failed with a webhookUrl.
   */
  redeliverTask(id: string, now: number): Promise<RedeliverResult>;
  /** Re-delivers every completed or failed task with a webhookUrl matching the filter (and its webhook state). */
  redeliverMany(filter: RedeliverFilter, now: number): Promise<{ count: number }>;
  /** Every delivery attempt of a batch's `batch.done` webhook, oldest first (api.md §13, §16); undefined when there is no such batch. */
  listBatchDeliveries(id: string): Promise<Delivery[] | undefined>;
  /**
   * Sends the batch's latest `batch.done` again, due now, with the same webhook-id and a fresh
   * set of retries; refused (`conflict`) unless the batch is done with a webhookUrl.
   */
  redeliverBatch(id: string, now: number): Promise<BatchRedeliverResult>;
  /**
   * At start: running tasks back to pending with an `interrupted` attempt; open deliveries pending.
   * Open async attempts (after a 202) are left alone: their work is at the target (api.md §10).
   */
  recoverInterrupted(now: number): Promise<{ tasks: number; deliveries: number }>;
  // async completion (api.md §10)
  /** Records 202s: each attempt stays open until its deadline; false where the task no longer runs that attempt. */
  acceptAttempts(accepts: AttemptAccept[]): Promise<boolean[]>;
  /** The task and how its attempt `attempt` (default: the latest) ended; undefined when there is no such task. */
  asyncAttempt(id: string, attempt?: number): Promise<AsyncAttemptState | undefined>;
  /**
   * Ends an open async attempt, guarded in SQL: the task runs that attempt, and for `completed`
   * or `failed` its deadline has not passed (before the 202 is recorded it is open too); for
   * `timeout` the deadline has passed. Returns the task after the change, undefined when the guard refused.
   */
  endAsyncAttempt(end: AsyncEnd): Promise<Task | undefined>;
  /**
   * A heartbeat of an open attempt: its new deadline (ms), or undefined when the attempt is not
   * open. Before the 202 is recorded the heartbeat is kept and the deadline the 202 will open is returned.
   */
  heartbeatAttempt(id: string, attempt: number, now: number): Promise<number | undefined>;
  /** Up to `limit` open async attempts whose deadline is ≤ now, earliest first. */
  expiredAttempts(now: number, limit: number): Promise<(AsyncAttemptState & { awaiting: NonNullable<AsyncAttemptState['awaiting']> })[]>;
  /** Earliest deadline (ms) of an open async attempt; null if none. */
  nextAsyncDeadline(): Promise<number | null>;
  // schedules
  /** Creates or replaces schedule `s.id`; `created` is false when it existed. */
  putSchedule(s: ScheduleWrite, now: number): Promise<{ schedule: Schedule; created: boolean }>;
  getSchedule(id: string): Promise<Schedule | undefined>;
  /** Every schedule, by id. */
  listSchedules(): Promise<Schedule[]>;
  /** False when there was no such schedule. Its tasks stay. */
  deleteSchedule(id: string): Promise<boolean>;
  /** Up to `limit` unpaused schedules with next_fire_at ≤ now, earliest first. */
  dueSchedules(now: number, limit: number): Promise<DueSchedule[]>;
  /** Earliest next_fire_at (ms) of an unpaused schedule; null if none. */
  nextScheduleAt(): Promise<number | null>;
  /**
   * Fires a schedule: inserts the firing's tasks and updates its times in one transaction;
   * undefined (nothing written) when it is gone or `expect` fails. `onCommitted` as for createTasks.
   */
  fireSchedule(f: ScheduleFiring, onCommitted?: (results: CreateResult[] | undefined) => void): Promise<CreateResult[] | undefined>;
  // URL groups (QStash topics, api.md §14)
  /** Adds endpoints to group `name` (created on first use); an endpoint with a known url gets the new name. */
  addUrlGroupEndpoints(name: string, endpoints: UrlGroupEndpoint[], now: number): Promise<UrlGroup>;
  /** Removes the endpoints matching a url or a name; the group ends when its last endpoint goes. Returns how many went. */
  removeUrlGroupEndpoints(name: string, endpoints: { url?: string; name?: string }[], now: number): Promise<number>;
  getUrlGroup(name: string): Promise<UrlGroup | undefined>;
  /** Every URL group, by name. */
  listUrlGroups(): Promise<UrlGroup[]>;
  /** False when there was no such group. */
  deleteUrlGroup(name: string): Promise<boolean>;
  // cluster (api.md §9); SQLite: one node, always the leader, nothing to rescue
  /** Records this node's heartbeat (database time) and renews or takes the leader lease (it lasts `timeoutMs`); `leader` when this node leads. */
  heartbeat(beat: NodeBeat, timeoutMs: number): Promise<{ leader: boolean }>;
  /**
   * The leader's rescue: running attempts and webhook deliveries held by nodes whose heartbeat is
   * older than `timeoutMs` become pending again with an `interrupted` record (open async attempts
   * stay open); returns how many, and the ids of the dead nodes.
   */
  rescueDeadNodes(timeoutMs: number): Promise<{ tasks: number; deliveries: number; nodes: string[] }>;
  /** The nodes sharing this store (one with SQLite: this process, after its first heartbeat). */
  listNodes(timeoutMs: number): Promise<ClusterNode[]>;
  /** This node stops: forgets it and gives up its lease. */
  leaveCluster(id: string): Promise<void>;
  // maintenance
  /** Deletes up to `limit` terminal tasks completed before `before`; returns how many. */
  purgeExpired(before: number, limit: number): Promise<number>;
  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
  /** Stores `value` unless `key` has a value already; returns the stored value (race-free first write across nodes). */
  initSetting(key: string, value: string): Promise<string>;
  // dashboard sessions (the cookie holds a random session id and an HMAC, never the token)
  /** Ends session `id` on every node until `expiresAt` (ms), when its cookie expires anyway; forgets ended sessions past `now`. */
  revokeSession(id: string, expiresAt: number, now: number): Promise<void>;
  /** True when session `id` was ended by a logout. */
  isSessionRevoked(id: string): Promise<boolean>;
  /** Inserts exported tasks with their ids, states and attempts, all or nothing; ids already stored are skipped (api.md §15). */
  importTasks(items: ImportItem[], now: number): Promise<{ imported: number; skipped: number }>;
  /** What an export line carries beyond the Task object (api.md §15): each task's chain steps and outcome count, and the batches of those in one. */
  exportDetails(ids: string[]): Promise<ExportDetails>;
  /** Writes a consistent copy of the database to `file` while serving; rejects with StoreUnsupportedError where the store has no such copy. */
  backup(file: string): Promise<void>;
  /** Database facts for `doctor` and bug reports. */
  info(): Promise<{ path: string; sizeBytes: number; schemaVersion: number; durability: string }>;
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/** Thrown (as a rejection) when the store cannot work: disk full, read-only, I/O error, database unreachable. */
export class StoreUnavailableError extends Error {
  override name = 'StoreUnavailableError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/** Thrown (as a rejection) for an operation this kind of store does not offer (e.g. a file backup of PostgreSQL). */
export class StoreUnsupportedError extends Error {
  override name = 'StoreUnsupportedError';
}

/** Thrown by listTasks for a cursor it did not make (tampered or from another server). */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

/** Thrown by listTasks for a filter value it cannot use (a status that is not one of api.md §2's). */
export class InvalidFilterError extends Error {
  override name = 'InvalidFilterError';
  constructor(
    /** The filter's field, e.g. `status`. */
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
