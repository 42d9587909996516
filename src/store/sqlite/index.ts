// SqliteStore: the Store interface over one SQLite file. Reads run at once; writes join the
// current group-commit batch (batcher.ts) and resolve after it commits.
import type Database from 'better-sqlite3';
import fs from 'node:fs';
import type { NewTask } from '../../shared/defaults.js';
import type { BulkFilter, QueueUpdate, RedeliverFilter } from '../../shared/types.js';
import { StoreSignals } from '../signals.js';
import { StoreUnavailableError, type ClusterNode, type NodeBeat, type CreateResult, type QueueLimits, type AttemptFinish, type AsyncEnd, type AttemptAccept, type DeliveryFinish, type ListFilter, type ScheduleFiring, type ScheduleWrite, type Store, type NewBatch, type DeliveryUnclaim, type TaskUnclaim } from '../store.js';
import { WriteBatcher } from './batcher.js';
import { WalSync } from './wal-sync.js';
import { FileIdentity } from './identity.js';
import { createCtx, type Ctx } from './context.js';
import * as a from './async.js';
import * as d from './dispatch.js';
import { runningByKey } from './keys.js';
import * as un from './unclaim.js';
import * as m from './maintenance.js';
import { SCHEMA_VERSION } from './migrations.js';
import { isUnavailable, openDatabase } from './open.js';
import * as q from './queues.js';
import * as sc from './schedules.js';
import { toTask } from './rows.js';
import * as t from './tasks.js';
import * as ug from './url-groups.js';
import type { UrlGroupEndpoint } from '../../shared/qstash.js';
import * as tr from './transitions.js';
import * as tf from './transfer.js';
import type { ImportItem } from '../../shared/transfer.js';

export { StoreOpenError } from './open.js';

export interface SqliteStoreOptions {
  /** Database file (":memory:" for a throwaway store). */
  file: string;
  /**
   * `full` (default): every acknowledged write (a create, a cancel…) is fsynced before it resolves;
   * bookkeeping commits (claims, attempt results) are not, as a crash only repeats that work.
   * `normal`: nothing is fsynced at commit; survives a process crash but not a power loss.
   */
  durability?: 'full' | 'normal';
  /** Attempts in flight right now, reported by stats(); supplied by the dispatcher. */
  inFlight?: () => number;
  /** Called once if the database file is deleted or replaced while open (the server logs it as an error). */
  onFileLost?: (message: string) => void;
}

function mapError(err: unknown): unknown {
  if (isUnavailable(err)) return new StoreUnavailableError(`the database cannot be written: ${(err as Error).message}`, { cause: err });
  return err;
}

export class SqliteStore implements Store {
  readonly db: Database.Database;
  private readonly ctx: Ctx;
  /** The group-commit batcher (its `commits` and `writes` counters show the batching). */
  readonly batcher: WriteBatcher;
  private readonly durability: 'full' | 'normal';
  private closed = false;
  /** Off-loop fsync of the WAL for --durability full. */
  readonly walSync: WalSync | undefined;
  private limitsCache: QueueLimits[] | undefined;
  private readonly identity: FileIdentity | undefined;
  private lost: StoreUnavailableError | undefined;
  private queuesVersion = -1;
  inFlight: () => number;
  readonly signals = new StoreSignals();

  constructor(private readonly opts: SqliteStoreOptions) {
    this.durability = opts.durability ?? 'full';
    this.db = openDatabase(opts.file, this.durability);
    this.ctx = createCtx(this.db, this.signals);
    // --durability full: commits are written with NORMAL and the WAL is fsynced off the event
    // loop before acknowledged writes resolve (wal-sync.ts); same guarantee as synchronous=FULL.
    const memory = opts.file === ':memory:' || opts.file === '';
    this.walSync = this.durability === 'full' && !memory ? new WalSync(opts.file + '-wal') : undefined;
    if (this.walSync) this.db.pragma('synchronous = NORMAL');
    this.identity = memory ? undefined : new FileIdentity([opts.file, opts.file + '-wal']);
    this.batcher = new WriteBatcher(this.db, mapError, this.ctx.hooks, this.walSync, () => this.fileLost());
    this.inFlight = opts.inFlight ?? (() => 0);
  }

  /**
   * The error every write gets once the file (or its WAL) was deleted or replaced under us;
   * checked after each commit, before anything is acknowledged, and by ping() (/healthz).
   */
  private fileLost(): StoreUnavailableError | undefined {
    if (this.lost) return this.lost;
    const why = this.identity?.check();
    if (!why) return undefined;
    this.lost = new StoreUnavailableError(`${why}; nothing more can be stored (restore the file, or restart the server on a new database)`);
    this.opts.onFileLost?.(this.lost.message);
    return this.lost;
  }

  /** An acknowledged write: committed in the configured durability before it resolves. */
  private write<T>(fn: () => T, onCommit?: (value: T) => void): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the store is closed'));
    if (this.lost) return Promise.reject(this.lost);
    return this.batcher.run(fn, true, onCommit);
  }

  /** Dispatcher bookkeeping: survives a process crash; a power loss only makes work repeat. */
  private bookkeeping<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the store is closed'));
    if (this.lost) return Promise.reject(this.lost);
    return this.batcher.run(fn, false);
  }

  private read<T>(fn: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the store is closed'));
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(mapError(err));
    }
  }

  createTasks(tasks: NewTask[], onCommitted?: (results: CreateResult[]) => void, batch?: NewBatch) {
    return this.write(() => t.insertTasks(this.ctx, tasks, batch), onCommitted);
  }
  getBatch(id: string) {
    return this.read(() => t.getBatch(this.ctx, id));
  }
  getTask(id: string) {
    return this.read(() => {
      const row = t.getTaskRow(this.ctx, id);
      return row && toTask(row);
    });
  }
  listTasks(filter: ListFilter) {
    return this.read(() => t.listTasks(this.ctx, filter));
  }
  listAttempts(id: string) {
    return this.read(() => t.listAttempts(this.ctx, id));
  }
  cancelTask(id: string, now: number) {
    return this.write(() => tr.cancelTask(this.ctx, id, now));
  }
  retryTask(id: string, now: number) {
    return this.write(() => tr.retryTask(this.ctx, id, now));
  }
  deleteTask(id: string, now: number) {
    return this.write(() => tr.deleteTask(this.ctx, id, now));
  }
  cancelMany(filter: BulkFilter, now: number) {
    return this.write(() => tr.cancelMany(this.ctx, filter, now));
  }
  retryMany(filter: BulkFilter, now: number) {
    return this.write(() => tr.retryMany(this.ctx, filter, now));
  }
  listQueues() {
    return this.read(() => q.listQueues(this.ctx));
  }
  getQueue(name: string) {
    return this.read(() => q.getQueue(this.ctx, name));
  }
  updateQueue(name: string, update: QueueUpdate, now: number) {
    return this.write(() => q.updateQueue(this.ctx, name, update, now));
  }
  deleteQueue(name: string) {
    return this.write(() => q.deleteQueue(this.ctx, name));
  }
  /** Cached until a queue is created or changed: the scheduler asks on every claim. */
  queueLimits() {
    return this.read(() => {
      if (!this.limitsCache || this.queuesVersion !== this.ctx.queuesVersion) {
        this.queuesVersion = this.ctx.queuesVersion;
        this.limitsCache = q.queueLimits(this.ctx);
      }
      return this.limitsCache;
    });
  }
  /** Queues with keyConcurrency (name → limit), from the limits cache. */
  private keyedQueues(): ReadonlyMap<string, number> {
    if (!this.limitsCache || this.queuesVersion !== this.ctx.queuesVersion) {
      this.queuesVersion = this.ctx.queuesVersion;
      this.limitsCache = q.queueLimits(this.ctx);
    }
    if (this.keyedCache?.list !== this.limitsCache) {
      const map = new Map<string, number>();
      for (const l of this.limitsCache) if (l.keyConcurrency !== null) map.set(l.name, l.keyConcurrency);
      this.keyedCache = { list: this.limitsCache, map };
    }
    return this.keyedCache.map;
  }
  private keyedCache: { list: QueueLimits[]; map: Map<string, number> } | undefined;
  stats(now: number) {
    return this.read(() => q.stats(this.ctx, now, this.inFlight()));
  }
  claimTasks(perQueue: Map<string, number>, now: number) {
    return this.bookkeeping(() => d.claimTasks(this.ctx, perQueue, now, this.keyedQueues()));
  }
  unclaimTasks(items: TaskUnclaim[], now: number) {
    return this.bookkeeping(() => un.unclaimTasks(this.ctx, items, now));
  }
  unclaimDeliveries(items: DeliveryUnclaim[]) {
    return this.bookkeeping(() => un.unclaimDeliveries(this.ctx, items));
  }
  keysInFlight(queue: string, keys: string[]) {
    return this.read(() => {
      const all = runningByKey(this.ctx, queue);
      return new Map(keys.filter((k) => all.has(k)).map((k) => [k, all.get(k)!]));
    });
  }
  dueQueues(queues: string[], now: number) {
    return this.read(() => d.dueQueues(this.ctx, queues, now));
  }
  finishAttempts(results: AttemptFinish[]) {
    return this.bookkeeping(() => d.finishAttempts(this.ctx, results));
  }
  nextDueAt(queues: string[]) {
    return this.read(() => d.nextDueAt(this.ctx, queues));
  }
  nextDeliveryAt() {
    return this.read(() => d.nextDeliveryAt(this.ctx));
  }
  claimDeliveries(limit: number, now: number) {
    return this.bookkeeping(() => d.claimDeliveries(this.ctx, limit, now));
  }
  finishDeliveries(results: DeliveryFinish[]) {
    return this.bookkeeping(() => d.finishDeliveries(this.ctx, results));
  }
  listDeliveries(id: string) {
    return this.read(() => t.listDeliveries(this.ctx, id));
  }
  redeliverTask(id: string, now: number) {
    return this.write(() => tr.redeliverTask(this.ctx, id, now));
  }
  redeliverMany(filter: RedeliverFilter, now: number) {
    return this.write(() => tr.redeliverMany(this.ctx, filter, now));
  }
  listBatchDeliveries(id: string) {
    return this.read(() => t.listDeliveries(this.ctx, id, 'batches'));
  }
  redeliverBatch(id: string, now: number) {
    return this.write(() => tr.redeliverBatch(this.ctx, id, now));
  }
  recoverInterrupted(now: number) {
    return this.write(() => d.recoverInterrupted(this.ctx, now));
  }
  acceptAttempts(accepts: AttemptAccept[]) {
    return this.bookkeeping(() => a.acceptAttempts(this.ctx, accepts));
  }
  asyncAttempt(id: string, attempt?: number) {
    return this.read(() => a.asyncAttempt(this.ctx, id, attempt));
  }
  /** The target's complete or fail is acknowledged after its commit; a timeout is bookkeeping. */
  endAsyncAttempt(end: AsyncEnd) {
    const fn = () => a.endAsyncAttempt(this.ctx, end);
    return end.ended === 'timeout' ? this.bookkeeping(fn) : this.write(fn);
  }
  heartbeatAttempt(id: string, attempt: number, now: number) {
    return this.bookkeeping(() => a.heartbeatAttempt(this.ctx, id, attempt, now));
  }
  expiredAttempts(now: number, limit: number) {
    return this.read(() => a.expiredAttempts(this.ctx, now, limit));
  }
  nextAsyncDeadline() {
    return this.read(() => a.nextAsyncDeadline(this.ctx));
  }
  putSchedule(s: ScheduleWrite, now: number) {
    return this.write(() => sc.putSchedule(this.ctx, s, now));
  }
  getSchedule(id: string) {
    return this.read(() => sc.getSchedule(this.ctx, id));
  }
  listSchedules() {
    return this.read(() => sc.listSchedules(this.ctx));
  }
  deleteSchedule(id: string) {
    return this.write(() => sc.deleteSchedule(this.ctx, id));
  }
  dueSchedules(now: number, limit: number) {
    return this.read(() => sc.dueSchedules(this.ctx, now, limit));
  }
  nextScheduleAt() {
    return this.read(() => sc.nextScheduleAt(this.ctx));
  }
  fireSchedule(f: ScheduleFiring, onCommitted?: (results: CreateResult[] | undefined) => void) {
    return this.write(() => sc.fireSchedule(this.ctx, f), onCommitted);
  }
  addUrlGroupEndpoints(name: string, endpoints: UrlGroupEndpoint[], now: number) {
    return this.write(() => ug.addEndpoints(this.ctx, name, endpoints, now));
  }
  removeUrlGroupEndpoints(name: string, endpoints: { url?: string; name?: string }[], now: number) {
    return this.write(() => ug.removeEndpoints(this.ctx, name, endpoints, now));
  }
  getUrlGroup(name: string) {
    return this.read(() => ug.getUrlGroup(this.ctx, name));
  }
  listUrlGroups() {
    return this.read(() => ug.listUrlGroups(this.ctx));
  }
  deleteUrlGroup(name: string) {
    return this.write(() => ug.deleteUrlGroup(this.ctx, name));
  }
  purgeExpired(before: number, limit: number) {
    return this.bookkeeping(() => m.purgeExpired(this.ctx, before, limit));
  }
  getSetting(key: string) {
    return this.read(() => m.getSetting(this.ctx, key));
  }
  setSetting(key: string, value: string) {
    return this.write(() => m.setSetting(this.ctx, key, value));
  }
  initSetting(key: string, value: string) {
    return this.write(() => m.initSetting(this.ctx, key, value));
  }
  revokeSession(id: string, expiresAt: number, now: number) {
    return this.write(() => m.revokeSession(this.ctx, id, expiresAt, now));
  }
  isSessionRevoked(id: string) {
    return this.read(() => m.isSessionRevoked(this.ctx, id));
  }
  importTasks(items: ImportItem[], now: number) {
    return this.write(() => tf.importTasks(this.ctx, items, now));
  }
  exportDetails(ids: string[]) {
    return this.read(() => tf.exportDetails(this.ctx, ids));
  }
  /** SQLite's online backup API: a consistent copy while writes go on (they wait only between its steps). */
  async backup(file: string) {
    if (this.closed) throw new StoreUnavailableError('the store is closed');
    await this.db.backup(file);
  }
  private node: ClusterNode | undefined;
  /** One process owns the file: it is the whole cluster and its leader. */
  heartbeat(beat: NodeBeat) {
    if (this.closed) return Promise.reject(new StoreUnavailableError('the store is closed'));
    const at = Date.now();
    this.node = { id: beat.id, name: beat.name, startedAt: beat.startedAt, heartbeatAt: at, inFlight: beat.inFlight, leader: true, alive: true };
    return Promise.resolve({ leader: true });
  }
  rescueDeadNodes() {
    return Promise.resolve({ tasks: 0, deliveries: 0, nodes: [] as string[] });
  }
  listNodes() {
    return Promise.resolve(this.node ? [{ ...this.node, inFlight: this.inFlight() }] : []);
  }
  leaveCluster() {
    this.node = undefined;
    return Promise.resolve();
  }
  info() {
    return this.read(() => {
      const size = (f: string) => (fs.existsSync(f) ? fs.statSync(f).size : 0);
      return { path: this.opts.file, sizeBytes: size(this.opts.file) + size(this.opts.file + '-wal'), schemaVersion: SCHEMA_VERSION, durability: this.durability };
    });
  }
  ping() {
    return this.read(() => this.fileLost() === undefined && this.db.prepare('SELECT 1').get() !== undefined);
  }
  async close() {
    if (this.closed) return;
    this.batcher.flush(true);
    this.closed = true;
    // Let acknowledged writes of the last batch reach the disk before the file is closed.
    if (this.walSync) await this.walSync.sync().catch(() => undefined);
    this.db.close();
    this.walSync?.close();
  }
}
