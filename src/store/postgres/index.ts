// PostgresStore: the Store interface over a PostgreSQL database shared by any number of
// AsyncQueue nodes. Every write is one statement (or one short transaction) that commits before
// it resolves; guards and limits live in SQL, so nodes never need to agree in memory.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { NewTask } from '../../shared/defaults.js';
import type { BulkFilter, QueueUpdate, RedeliverFilter } from '../../shared/types.js';
import type { AsyncEnd, AttemptAccept, AttemptFinish, ClusterNode, NodeBeat, CreateResult, DeliveryFinish, ListFilter, NewBatch, QueueLimits, ScheduleFiring, ScheduleWrite, Store, DeliveryUnclaim, TaskUnclaim } from '../store.js';
import * as a from './async.js';
import * as cl from './cluster.js';
import { Listener, type ChangeKind } from './listen.js';
import type { PgCtx } from './context.js';
import * as d from './dispatch.js';
import * as un from './unclaim.js';
import * as m from './maintenance.js';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import { Db, isUnavailable } from './pool.js';
import * as q from './queues.js';
import * as sc from './schedules.js';
import * as t from './tasks.js';
import * as tr from './transitions.js';
import * as ug from './url-groups.js';
import * as tf from './transfer.js';
import type { ImportItem } from '../../shared/transfer.js';
import { StoreUnsupportedError } from '../store.js';
import { StoreSignals } from '../signals.js';
import type { UrlGroupEndpoint } from '../../shared/qstash.js';

export { isUnavailable } from './pool.js';

export interface PostgresStoreOptions {
  /** postgres:// or postgresql:// URL. */
  url: string;
  /** This node's id, recorded on the tasks and deliveries it claims (default: host name and a random suffix). */
  nodeId?: string;
  /** Use the database's clock for claims and due checks (default true; false: the callers' `now`, for tests). */
  dbTime?: boolean;
  /** Pool size for API writes and reads (default 10); the dispatcher's bookkeeping has its own pool of 4. */
  poolSize?: number;
  /**
   * `full` (default): an acknowledged write (create, cancel, …) is answered after PostgreSQL has
   * flushed its commit. `normal`: commits do not wait for the flush (a database crash may lose
   * the last moments). Dispatcher bookkeeping never waits for it (a lost claim or result only
   * makes an attempt run again).
   */
  durability?: 'full' | 'normal';
  /** Attempts in flight right now, reported by stats(); supplied by the dispatcher. */
  inFlight?: () => number;
  /** Called when an idle pooled connection fails (the database restarted); default: ignored. */
  onConnectionError?: (err: Error) => void;
  /**
   * Listen for the other nodes' changes (api.md §9, one LISTEN connection): their task changes
   * are announced on `signals` as `remote`, queue and schedule changes reach `onChange`. Default false.
   */
  listen?: boolean;
  /** Queue settings or schedules changed on some node, or the listening connection came back (`reconnected`). */
  onChange?: (kind: ChangeKind) => void;
  /** The listening connection dropped (it reconnects by itself). */
  onListenError?: (err: Error) => void;
}

/** Thrown by PostgresStore.open when the database cannot be used; its message is one line for the operator. */
export class PostgresOpenError extends Error {
  override name = 'StoreOpenError';
}

import { redactUrl } from './url.js';
export { isPostgresUrl, redactUrl } from './url.js';

interface PendingCreate {
  tasks: NewTask[];
  onCommitted?: (results: CreateResult[]) => void;
  resolve: (r: CreateResult[]) => void;
  reject: (e: unknown) => void;
}

/** Create statements in flight at once; creates arriving meanwhile join the next one. */
const CREATE_FLUSHES = 4;

function settle(b: PendingCreate, results: CreateResult[]): void {
  try {
    b.onCommitted?.(results);
  } catch {
    // a listener's failure is not the write's
  }
  b.resolve(results);
}

/** How long queueLimits() answers from memory (ms); a limit changed on another node is also enforced by the claim itself. */
const LIMITS_TTL_MS = 1000;

export class PostgresStore implements Store {
  readonly db: Db;
  /** The bookkeeping pool (claims and results; commits do not wait for the WAL flush). */
  readonly book: Db;
  readonly ctx: PgCtx;
  readonly nodeId: string;
  inFlight: () => number;
  readonly signals = new StoreSignals();
  private limitsCache: QueueLimits[] | undefined;
  private limitsKey = '';
  private limitsAt = 0;
  /** Bumped whenever the cached limits are made stale; a read that overlapped a bump is not kept as fresh. */
  private limitsGen = 0;
  private closed = false;
  /** Tokens of claims that failed with the connection: the database may have committed them (releaseClaims). */
  private lostClaims: number[] = [];

  private constructor(private readonly opts: PostgresStoreOptions) {
    this.nodeId = opts.nodeId ?? `${os.hostname().replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 80)}-${randomBytes(4).toString('hex')}`;
    const onError = opts.onConnectionError ?? (() => undefined);
    // Every connection names its node (aq.node), so NOTIFY payloads say which node committed (migration 4).
    const origin = `-c aq.node=${this.origin}`;
    this.db = new Db({ url: opts.url, max: opts.poolSize, asyncCommit: opts.durability === 'normal', options: origin }, onError);
    this.book = new Db({ url: opts.url, max: 4, asyncCommit: true, options: origin }, onError);
    this.ctx = { db: this.db, book: this.book, nodeId: this.nodeId, dbTime: opts.dbTime ?? true, knownQueues: new Set(), signals: this.signals };
    this.inFlight = opts.inFlight ?? (() => 0);
  }

  /** The origin tag of this node's commits in NOTIFY payloads: its id, restricted to characters a libpq option keeps. */
  get origin(): string {
    return this.nodeId.replace(/[^A-Za-z0-9._:-]/g, '_').slice(0, 100);
  }

  private listener: Listener | undefined;

  /** Connects, migrates (once per database, under an advisory lock) and returns the store; PostgresOpenError when it cannot. */
  static async open(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const store = new PostgresStore(opts);
    const where = redactUrl(opts.url);
    try {
      await migrate((fn) => store.db.tx(fn));
    } catch (err) {
      await Promise.all([store.db.close().catch(() => undefined), store.book.close().catch(() => undefined)]);
      if (err instanceof Error && err.name === 'SchemaTooNewError') throw new PostgresOpenError(`${where}: ${err.message}`);
      const cause = ((err as { cause?: Error }).cause ?? err) as Error;
      const detail = (cause.message || String((cause as { code?: string }).code ?? cause)).split('\n')[0];
      if (isUnavailable(err)) throw new PostgresOpenError(`cannot connect to PostgreSQL at ${where}: ${detail}`);
      throw new PostgresOpenError(`cannot use PostgreSQL at ${where}: ${detail}`);
    }
    if (opts.listen) {
      store.listener = new Listener({
        config: store.db.config, origin: store.origin, signals: store.signals,
        onChange: (kind) => {
          if (kind !== 'schedules') store.staleLimits();
          opts.onChange?.(kind);
        },
        onError: (err) => opts.onListenError?.(err),
      });
      await store.listener.start();
    }
    return store;
  }

  /** A task of a queue the cached limits do not list: re-read them at the next claim, not after the TTL (a new queue's tasks run at once). */
  private noteQueues(tasks: { queue: string }[]): void {
    const known = this.limitsCache;
    if (!known || tasks.some((x) => !known.some((q) => q.name === x.queue))) this.staleLimits();
  }
  /**
   * Group commit: creates arriving in the same event-loop turn become one INSERT statement (one
   * commit, one WAL flush), with up to CREATE_FLUSHES statements in flight; creates arriving
   * meanwhile wait for the next. If the joint statement fails for a reason other than the
   * database being away, each create runs alone, so one bad write never takes its neighbours down.
   */
  createTasks(tasks: NewTask[], onCommitted?: (results: CreateResult[]) => void, batch?: NewBatch): Promise<CreateResult[]> {
    this.noteQueues(tasks);
    if (batch) return this.createBatch(batch, tasks, onCommitted);
    return new Promise((resolve, reject) => {
      this.creates.push({ tasks, onCommitted, resolve, reject });
      this.scheduleCreates();
    });
  }
  private creates: PendingCreate[] = [];
  private createsScheduled = false;
  private createFlushes = 0;
  private scheduleCreates(): void {
    if (this.createsScheduled || this.createFlushes >= CREATE_FLUSHES || this.creates.length === 0) return;
    this.createsScheduled = true;
    setImmediate(() => {
      this.createsScheduled = false;
      void this.flushCreates();
    });
  }
  private async flushCreates(): Promise<void> {
    const batch = this.creates.splice(0);
    if (batch.length === 0) return;
    this.createFlushes++;
    try {
      const all = batch.length === 1 ? batch[0]!.tasks : batch.flatMap((b) => b.tasks);
      let results: CreateResult[] | undefined;
      try {
        results = await t.insertTasks(this.ctx, this.db, all);
        // Again once committed: a limits read that ran between createTasks() and the commit
        // cannot have seen a new queue, and must not be kept for the TTL.
        this.noteQueues(all);
      } catch (err) {
        if (batch.length === 1 || isUnavailable(err)) {
          for (const b of batch) b.reject(err);
          return;
        }
      }
      if (!results) {
        await Promise.all(batch.map((b) => t.insertTasks(this.ctx, this.db, b.tasks).then((r) => (this.noteQueues(b.tasks), settle(b, r)), b.reject)));
        return;
      }
      let at = 0;
      for (const b of batch) {
        settle(b, results.slice(at, at + b.tasks.length));
        at += b.tasks.length;
      }
    } finally {
      this.createFlushes--;
      this.scheduleCreates();
    }
  }
  /** A batch (api.md §13) is its own transaction: its row, its tasks and their count commit together. */
  private async createBatch(batch: NewBatch, tasks: NewTask[], onCommitted?: (results: CreateResult[]) => void): Promise<CreateResult[]> {
    const ids = tasks.map((x) => x.id);
    this.signals.hold(ids); // the members' events follow their `pending` (StoreSignals.hold)
    try {
      const committed: (() => void)[] = [];
      const results = await this.db.tx((sql) => {
        committed.length = 0; // a retried transaction runs its writes (and their callbacks) again
        return t.insertBatch(this.ctx, sql, batch, tasks, (fn) => committed.push(fn));
      });
      for (const fn of committed) fn();
      onCommitted?.(results);
      return results;
    } finally {
      this.signals.release(ids);
    }
  }
  getTask(id: string) {
    return t.getTask(this.ctx, id);
  }
  getBatch(id: string) {
    return t.getBatch(this.ctx, id);
  }
  listTasks(filter: ListFilter) {
    return t.listTasks(this.ctx, filter);
  }
  listAttempts(id: string) {
    return t.listAttempts(this.ctx, id);
  }
  cancelTask(id: string, now: number) {
    return tr.cancelTask(this.ctx, id, now);
  }
  retryTask(id: string, now: number) {
    return tr.retryTask(this.ctx, id, now);
  }
  deleteTask(id: string, now: number) {
    return tr.deleteTask(this.ctx, id, now);
  }
  cancelMany(filter: BulkFilter, now: number) {
    return tr.cancelMany(this.ctx, filter, now);
  }
  retryMany(filter: BulkFilter, now: number) {
    return tr.retryMany(this.ctx, filter, now);
  }
  listQueues() {
    return q.listQueues(this.ctx);
  }
  getQueue(name: string) {
    return q.getQueue(this.ctx, name);
  }
  async updateQueue(name: string, update: QueueUpdate, now: number) {
    const queue = await q.updateQueue(this.ctx, name, update, now);
    this.staleLimits();
    return queue;
  }
  async deleteQueue(name: string) {
    const gone = await q.deleteQueue(this.ctx, name);
    this.staleLimits();
    return gone;
  }
  /** Forgets that queue `name` has a row (it was deleted, e.g. on another node), so the next create inserts it again. */
  forgetQueue(name: string): void {
    this.ctx.knownQueues.delete(name);
    this.staleLimits();
  }
  private staleLimits(): void {
    this.limitsAt = 0;
    this.limitsGen++;
  }
  /** Re-read at most every LIMITS_TTL_MS (the scheduler asks on every claim); the same array while nothing changed. */
  async queueLimits() {
    const at = Date.now();
    if (this.limitsCache && at - this.limitsAt < LIMITS_TTL_MS) return this.limitsCache;
    const gen = this.limitsGen;
    const list = await q.queueLimits(this.ctx);
    const key = JSON.stringify(list);
    if (key !== this.limitsKey || !this.limitsCache) {
      this.limitsKey = key;
      this.limitsCache = list;
    }
    // A create of a new queue while this read was out may be missing from it: read again next time.
    this.limitsAt = gen === this.limitsGen ? at : 0;
    return this.limitsCache;
  }
  /** Forgets the cached queue limits (a queue changed, e.g. on another node). */
  invalidateQueueLimits(): void {
    this.staleLimits();
  }
  stats(now: number) {
    return q.stats(this.ctx, now, this.inFlight());
  }
  /** A claim that fails with the connection may still have committed: its token is kept until released. */
  private async claiming<T>(fn: (token: number) => Promise<T>): Promise<T> {
    if (this.lostClaims.length > 0) await this.releaseLostClaims();
    const token = d.claimToken();
    try {
      return await fn(token);
    } catch (err) {
      if (isUnavailable(err)) this.lostClaims.push(token);
      throw err;
    }
  }
  /** Gives back the work of claims whose answer was lost (once the database answers again). */
  async releaseLostClaims(): Promise<number> {
    if (this.lostClaims.length === 0) return 0;
    const tokens = this.lostClaims.slice();
    const n = await d.releaseClaims(this.ctx, tokens);
    this.lostClaims = this.lostClaims.filter((t) => !tokens.includes(t));
    return n;
  }
  /**
   * Dispatcher results must not be lost while the database is away: retried (100 ms doubling to
   * 2 s) until it answers or the store closes. Repeating one whose answer was lost is harmless:
   * the attempt row is kept once and the guarded update applies at most once.
   */
  private async persist<T>(fn: () => Promise<T>): Promise<T> {
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      try {
        return await fn();
      } catch (err) {
        if (!isUnavailable(err) || this.closed) throw err;
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
  claimTasks(perQueue: Map<string, number>, now: number) {
    return this.claiming((token) => d.claimTasks(this.ctx, perQueue, now, this.limitsCache, token));
  }
  unclaimTasks(items: TaskUnclaim[], now: number) {
    return this.persist(() => un.unclaimTasks(this.ctx, items, now));
  }
  unclaimDeliveries(items: DeliveryUnclaim[]) {
    return this.persist(() => un.unclaimDeliveries(this.ctx, items));
  }
  async keysInFlight(queue: string, keys: string[]) {
    if (keys.length === 0) return new Map<string, number>();
    const rows = await this.ctx.db.query<{ k: string; n: number }>(
      `SELECT concurrency_key AS k, count(*)::int AS n FROM tasks
       WHERE status = 'running' AND concurrency_key IS NOT NULL AND queue = $1 AND concurrency_key = ANY($2::text[]) AND awaiting_since IS NULL
       GROUP BY concurrency_key`,
      [queue, keys],
      'aq_keys_in_flight',
    );
    return new Map(rows.map((r) => [r.k, r.n]));
  }
  async dueQueues(queues: string[], now: number) {
    if (this.lostClaims.length > 0) await this.releaseLostClaims();
    return d.dueQueues(this.ctx, queues, now);
  }
  finishAttempts(results: AttemptFinish[]) {
    return this.persist(() => d.finishAttempts(this.ctx, results));
  }
  nextDueAt(queues: string[]) {
    return d.nextDueAt(this.ctx, queues);
  }
  nextDeliveryAt() {
    return d.nextDeliveryAt(this.ctx);
  }
  claimDeliveries(limit: number, now: number) {
    return this.claiming((token) => d.claimDeliveries(this.ctx, limit, now, token));
  }
  finishDeliveries(results: DeliveryFinish[]) {
    return this.persist(() => d.finishDeliveries(this.ctx, results));
  }
  listDeliveries(id: string) {
    return t.listDeliveries(this.ctx, id);
  }
  redeliverTask(id: string, now: number) {
    return tr.redeliverTask(this.ctx, id, now);
  }
  redeliverMany(filter: RedeliverFilter, now: number) {
    return tr.redeliverMany(this.ctx, filter, now);
  }
  listBatchDeliveries(id: string) {
    return t.listDeliveries(this.ctx, id, 'batches');
  }
  redeliverBatch(id: string, now: number) {
    return tr.redeliverBatch(this.ctx, id, now);
  }
  recoverInterrupted(now: number) {
    return d.recoverInterrupted(this.ctx, now);
  }
  acceptAttempts(accepts: AttemptAccept[]) {
    return this.persist(() => a.acceptAttempts(this.ctx, accepts));
  }
  asyncAttempt(id: string, attempt?: number) {
    return a.asyncAttempt(this.ctx, id, attempt);
  }
  endAsyncAttempt(end: AsyncEnd) {
    return end.ended === 'timeout' ? this.persist(() => a.endAsyncAttempt(this.ctx, end)) : a.endAsyncAttempt(this.ctx, end);
  }
  heartbeatAttempt(id: string, attempt: number, now: number) {
    return a.heartbeatAttempt(this.ctx, id, attempt, now);
  }
  expiredAttempts(now: number, limit: number) {
    return a.expiredAttempts(this.ctx, now, limit);
  }
  nextAsyncDeadline() {
    return a.nextAsyncDeadline(this.ctx);
  }
  putSchedule(s: ScheduleWrite, now: number) {
    return sc.putSchedule(this.ctx, s, now);
  }
  getSchedule(id: string) {
    return sc.getSchedule(this.ctx, id);
  }
  listSchedules() {
    return sc.listSchedules(this.ctx);
  }
  deleteSchedule(id: string) {
    return sc.deleteSchedule(this.ctx, id);
  }
  dueSchedules(now: number, limit: number) {
    return sc.dueSchedules(this.ctx, now, limit);
  }
  nextScheduleAt() {
    return sc.nextScheduleAt(this.ctx);
  }
  fireSchedule(f: ScheduleFiring, onCommitted?: (results: CreateResult[] | undefined) => void) {
    this.noteQueues(f.tasks);
    return sc.fireSchedule(this.ctx, f).then((results) => {
      try {
        onCommitted?.(results);
      } catch {
        // a listener's failure is not the write's
      }
      return results;
    });
  }
  addUrlGroupEndpoints(name: string, endpoints: UrlGroupEndpoint[], now: number) {
    return ug.addEndpoints(this.ctx, name, endpoints, now);
  }
  removeUrlGroupEndpoints(name: string, endpoints: { url?: string; name?: string }[], now: number) {
    return ug.removeEndpoints(this.ctx, name, endpoints, now);
  }
  getUrlGroup(name: string) {
    return ug.getUrlGroup(this.ctx, name);
  }
  listUrlGroups() {
    return ug.listUrlGroups(this.ctx);
  }
  deleteUrlGroup(name: string) {
    return ug.deleteUrlGroup(this.ctx, name);
  }
  purgeExpired(before: number, limit: number) {
    return m.purgeExpired(this.ctx, before, limit);
  }
  getSetting(key: string) {
    return m.getSetting(this.ctx, key);
  }
  setSetting(key: string, value: string) {
    return m.setSetting(this.ctx, key, value);
  }
  initSetting(key: string, value: string) {
    return m.initSetting(this.ctx, key, value);
  }
  revokeSession(id: string, expiresAt: number, now: number) {
    return m.revokeSession(this.ctx, id, expiresAt, now);
  }
  isSessionRevoked(id: string) {
    return m.isSessionRevoked(this.ctx, id);
  }
  importTasks(items: ImportItem[], now: number) {
    this.noteQueues(items.map((i) => i.task));
    return tf.importTasks(this.ctx, items, now);
  }
  exportDetails(ids: string[]) {
    return tf.exportDetails(this.ctx, ids);
  }
  /** A file copy is SQLite's; a PostgreSQL database is copied with pg_dump (or moved with export/import). */
  async backup(_file: string): Promise<void> {
    throw new StoreUnsupportedError('backup copies a SQLite database; this server stores its tasks in PostgreSQL: use pg_dump, or asyncqueue export');
  }
  async info() {
    const [r] = await this.db.query<{ size: number; sync: string }>(
      `SELECT (SELECT COALESCE(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
                WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'm'))::bigint AS size,
              current_setting('synchronous_commit') AS sync`,
    );
    return { path: redactUrl(this.opts.url), sizeBytes: r?.size ?? 0, schemaVersion: SCHEMA_VERSION, durability: `postgresql (synchronous_commit=${r?.sync ?? 'on'})` };
  }
  heartbeat(beat: NodeBeat, timeoutMs: number) {
    return cl.heartbeat(this.ctx, beat, timeoutMs);
  }
  rescueDeadNodes(timeoutMs: number) {
    return cl.rescueDead(this.ctx, timeoutMs);
  }
  listNodes(timeoutMs: number): Promise<ClusterNode[]> {
    return cl.listNodes(this.ctx, timeoutMs);
  }
  leaveCluster(id: string) {
    return cl.leave(this.ctx, id);
  }
  /** True while the listening connection (api.md §9) is up; undefined when this store does not listen. */
  get listening(): boolean | undefined {
    return this.listener?.listening;
  }
  async ping() {
    try {
      return (await this.db.query('SELECT 1 AS ok')).length === 1;
    } catch {
      return false;
    }
  }
  async close() {
    this.closed = true;
    await this.listener?.close();
    await Promise.all([this.db.close(), this.book.close()]);
  }
}
