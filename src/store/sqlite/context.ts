// The connection, its prepared-statement cache, and the counters every write keeps: tasks by
// queue and state, and per-minute stats. Writes record deltas; the batcher applies them once
// per group commit (a few rows per transaction instead of two per task), inside the same
// transaction, so counts are exactly as durable as the tasks they count.
import type Database from 'better-sqlite3';
import type { TaskEvent, TaskStatus } from '../../shared/types.js';
import { givenBackEvent, taskEvent, type StoreSignals } from '../signals.js';

export type MinuteField = 'dispatched' | 'completed' | 'failed';

export interface Ctx {
  db: Database.Database;
  /** A prepared statement for `sql`, prepared once per connection. */
  stmt(sql: string): Database.Statement;
  /** `n` tasks of `queue` moved from `from` to `to` (null: created or deleted). */
  move(queue: string, from: TaskStatus | null, to: TaskStatus | null, n?: number): void;
  /** Adds `n` to a per-minute counter for time `at` (ms). */
  tally(at: number, field: MinuteField, n?: number): void;
  /**
   * Announces that task `id` is now in `status` (after `attempts` attempts, at `at` ms): kept with
   * the write (dropped if it rolls back) and fired on `signals` once the batch commits.
   */
  signal(id: string, queue: string, status: TaskStatus, attempts: number, at: number): void;
  /** As `signal`, for a claim given back before its request started (pending again, see GIVEN_BACK). */
  signalGivenBack(id: string, queue: string, attempts: number, at: number): void;
  /** Bumped whenever a queue row is created or changed (so limits can be cached). */
  queuesVersion: number;
  /** Makes sure the queue row exists (a queue is created on first use); cheap once committed. */
  ensureQueue(name: string, now: number): void;
  /** Forgets that a queue row exists (it is being deleted), so the next use inserts it again. */
  forgetQueue(name: string): void;
  /** Group-commit hooks (batcher.ts): one write starts, ends (kept or rolled back), the batch commits. */
  hooks: { begin(): void; end(ok: boolean): void; beforeCommit(): void; committed(): void; discard(): void; announce(): void };
}

export function createCtx(db: Database.Database, signals?: StoreSignals): Ctx {
  const cache = new Map<string, Database.Statement>();
  let op = new Map<string, number>();
  let batch = new Map<string, number>();
  // Queue rows known to be committed; rows inserted by a write join them only once it commits.
  const knownQueues = new Set<string>();
  let opQueues: string[] = [];
  let batchQueues: string[] = [];
  let opEvents: TaskEvent[] = [];
  let batchEvents: TaskEvent[] = [];
  const add = (m: Map<string, number>, key: string, n: number) => m.set(key, (m.get(key) ?? 0) + n);
  const ctx: Ctx = {
    db,
    queuesVersion: 0,
    stmt(sql) {
      let s = cache.get(sql);
      if (!s) {
        s = db.prepare(sql);
        cache.set(sql, s);
      }
      return s;
    },
    move(queue, from, to, n = 1) {
      if (n === 0 || from === to) return;
      if (from) add(op, `c\0${queue}\0${from}`, -n);
      if (to) add(op, `c\0${queue}\0${to}`, n);
    },
    ensureQueue(name, now) {
      if (knownQueues.has(name)) return;
      if (ctx.stmt('INSERT OR IGNORE INTO queues (name, created_at) VALUES (?, ?)').run(name, now).changes > 0) ctx.queuesVersion++;
      opQueues.push(name);
    },
    forgetQueue(name) {
      knownQueues.delete(name);
      ctx.queuesVersion++;
    },
    signal(id, queue, status, attempts, at) {
      if (signals) opEvents.push(taskEvent(id, queue, status, attempts, at));
    },
    signalGivenBack(id, queue, attempts, at) {
      if (signals) opEvents.push(givenBackEvent(id, queue, attempts, at));
    },
    tally(at, field, n = 1) {
      if (n !== 0) add(op, `m\0${Math.floor(at / 60000)}\0${field}`, n);
    },
    hooks: {
      begin() {
        op = new Map();
        opQueues = [];
        opEvents = [];
      },
      end(ok) {
        if (ok) {
          for (const [k, n] of op) add(batch, k, n);
          batchQueues.push(...opQueues);
          if (opEvents.length > 0) batchEvents = batchEvents.length === 0 ? opEvents : batchEvents.concat(opEvents);
        }
        op = new Map();
        opQueues = [];
        opEvents = [];
      },
      committed() {
        for (const q of batchQueues) knownQueues.add(q);
        batchQueues = [];
      },
      beforeCommit() {
        if (batch.size === 0) return;
        const count = ctx.stmt('INSERT INTO counts (queue, status, n) VALUES (?, ?, ?) ON CONFLICT (queue, status) DO UPDATE SET n = n + excluded.n');
        for (const [key, n] of batch) {
          if (n === 0) continue;
          const [kind, a, b] = key.split('\0') as [string, string, string];
          if (kind === 'c') count.run(a, b, n);
          else ctx.stmt(`INSERT INTO minute_stats (minute, ${b}) VALUES (?, ?) ON CONFLICT (minute) DO UPDATE SET ${b} = ${b} + excluded.${b}`).run(Number(a), n);
        }
        batch = new Map();
      },
      discard() {
        op = new Map();
        batch = new Map();
        opQueues = [];
        batchQueues = [];
        opEvents = [];
        batchEvents = [];
      },
      announce() {
        const events = batchEvents;
        batchEvents = [];
        if (events.length > 0) signals!.fire(events);
      },
    },
  };
  return ctx;
}
