// What every PostgreSQL module gets: the pool, this node's id (recorded on the rows it
// claims), whether times come from the database, and the queues known to exist.
import type { StoreSignals } from '../signals.js';
import type { Db } from './pool.js';

export interface PgCtx {
  /** Acknowledged writes and reads: commits wait for the WAL flush (synchronous_commit as the server has it). */
  db: Db;
  /** Dispatcher bookkeeping (claims, attempt and delivery results): commits do not wait for the flush. */
  book: Db;
  /** This node's id: the owner recorded on claimed tasks and deliveries. */
  nodeId: string;
  /**
   * True (the server's setting): claims, due checks and rate limits use the database's clock
   * (aq_now_ms()), so nodes with drifting clocks agree; the `now` arguments then only stamp
   * writes. False: the caller's `now` everywhere (tests with an explicit clock).
   */
  dbTime: boolean;
  /** Queue rows known to be committed (a create skips inserting them). */
  knownQueues: Set<string>;
  /** Where committed task state changes are announced (store.signals): modules fire them after their commit. */
  signals: StoreSignals;
}

/** The SQL parameter for "now": null when the database's clock is used (see the `AQ_NOW` fragment). */
export function nowParam(ctx: PgCtx, now: number): number | null {
  return ctx.dbTime ? null : now;
}

/** SQL for the time of a statement, given the parameter from nowParam at position `$n`. */
export function nowSql(n: number): string {
  return `COALESCE($${n}::bigint, aq_now_ms())`;
}
