// Group commit: every write that arrives in the same event-loop turn joins one transaction,
// so a burst of requests costs one fsync, not one each (with a WalSync, the fsync even runs off
// the event loop). While an fsync runs, acknowledged writes are held and committed together when
// it ends, in one transaction for the next fsync (as PostgreSQL's commit_delay gathers commits):
// they could not be answered before that fsync anyway, and one commit writes each touched page
// once instead of once per turn. Writes stay in arrival order: bookkeeping queued behind a held
// write waits with it. Each write runs in its own savepoint:
// one that throws is rolled back and rejected alone; a failed COMMIT rejects them all.
import type Database from 'better-sqlite3';
import type { Ctx } from './context.js';
import type { WalSync } from './wal-sync.js';

/** What the batcher needs of the WAL's fsync (wal-sync.ts). */
export type DurableSync = Pick<WalSync, 'busy' | 'onEnd' | 'sync'>;

interface Pending {
  fn: () => unknown;
  durable: boolean;
  onCommit?: (value: unknown) => void;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

export class WriteBatcher {
  private pending: Pending[] = [];
  private scheduled = false;
  /** True while the queue's head is an acknowledged write held for the end of the running fsync. */
  private holding = false;
  private readonly savepoint: (fn: () => unknown) => unknown;
  /** BEGIN and COMMIT prepared once (exec would parse them on every batch). */
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  /** Transactions committed so far (group commit makes this far fewer than writes). */
  commits = 0;
  /** Writes committed so far. */
  writes = 0;

  /**
   * Commits run in the connection's synchronous mode. With a WalSync, `durable` writes (what an
   * answer acknowledges) resolve only after the WAL is fsynced; dispatcher bookkeeping (claims,
   * attempt results, deliveries) resolves at commit: in WAL mode that survives a process crash,
   * and a power loss can only lose work that is then done again (at least once), never a task a
   * caller was told is stored. Each fsync covers every frame written before it.
   * `onError` maps a commit failure (disk full, read-only) to the error the callers receive.
   */
  constructor(
    private readonly db: Database.Database,
    private readonly onError: (err: unknown) => unknown = (e) => e,
    private readonly hooks?: Ctx['hooks'],
    /** With a WalSync, commits run with NORMAL and acknowledged writes resolve after its fsync. */
    private readonly walSync?: DurableSync,
    /** Checked after each commit: an error here (the file is gone) rejects the whole batch instead. */
    private readonly verify?: () => Error | undefined,
  ) {
    this.savepoint = db.transaction((fn: () => unknown) => fn());
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
  }

  /**
   * Runs `fn` inside the next group transaction; resolves after that transaction commits (and,
   * for `durable` writes with a WalSync, after the fsync). `onCommit` runs right at the commit.
   */
  run<T>(fn: () => T, durable = true, onCommit?: (value: T) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, durable, onCommit: onCommit as ((v: unknown) => void) | undefined, resolve: resolve as (v: unknown) => void, reject });
      if (!this.scheduled && !this.holding) {
        this.scheduled = true;
        setImmediate(this.flushNext);
      }
    });
  }

  private readonly flushNext = (): void => this.flush();

  /** The fsync the held writes waited for ended: commit them on the next turn (with what else arrives). */
  private readonly release = (): void => {
    this.holding = false;
    if (!this.scheduled && this.pending.length > 0) {
      this.scheduled = true;
      setImmediate(this.flushNext);
    }
  };

  /**
   * Commits what is queued now; while an fsync runs, only the writes ahead of the first
   * acknowledged one (the rest wait for its end). `all`: everything, fsync or not (close).
   */
  flush(all = false): void {
    this.scheduled = false;
    let batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    if (!all && this.walSync?.busy) {
      let k = 0;
      while (k < batch.length && !batch[k]!.durable) k++;
      if (k < batch.length) {
        this.pending = k === 0 ? batch : batch.slice(k);
        if (!this.holding) {
          this.holding = true;
          this.walSync.onEnd(this.release);
        }
        if (k === 0) return;
        batch = batch.slice(0, k);
      }
    }
    const results: { ok: boolean; value: unknown }[] = new Array(batch.length);
    try {
      this.begin.run();
    } catch (err) {
      const mapped = this.onError(err);
      for (const p of batch) p.reject(mapped);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      this.hooks?.begin();
      try {
        results[i] = { ok: true, value: batch.length === 1 ? batch[i]!.fn() : this.savepoint(batch[i]!.fn) };
        this.hooks?.end(true);
      } catch (err) {
        results[i] = { ok: false, value: err };
        this.hooks?.end(false);
        // SQLITE_FULL, IOERR or NOMEM may roll back the whole transaction: the writes before
        // this one are gone and later ones would run outside it, so the batch fails as one.
        if (!this.db.inTransaction) {
          this.hooks?.discard();
          const mapped = this.onError(err);
          for (const p of batch) p.reject(mapped);
          return;
        }
      }
    }
    try {
      if (batch.length === 1 && !results[0]!.ok) this.db.exec('ROLLBACK');
      else {
        this.hooks?.beforeCommit();
        this.commit.run();
        this.hooks?.committed();
      }
      this.commits++;
      this.writes += batch.length;
    } catch (err) {
      this.hooks?.discard();
      try {
        if (this.db.inTransaction) this.db.exec('ROLLBACK');
      } catch {
        // the connection already rolled back
      }
      const mapped = this.onError(err);
      for (const p of batch) p.reject(mapped);
      return;
    }
    // Committed into a file that is no longer at its path: nothing is acknowledged or announced.
    const lost = this.verify?.();
    if (lost) {
      this.hooks?.discard();
      for (const p of batch) p.reject(lost);
      return;
    }
    // The batch's task events (store.signals), before any write resolves or waits for the sync.
    this.hooks?.announce();
    let synced: Promise<void> | undefined;
    for (let i = 0; i < batch.length; i++) {
      const r = results[i]!;
      const p = batch[i]!;
      if (r.ok && p.onCommit) {
        try {
          p.onCommit(r.value);
        } catch {
          // a listener's failure is not the write's
        }
      }
      if (!r.ok) p.reject(this.onError(r.value)); // disk full inside a statement is still a 503
      else if (!p.durable || !this.walSync) p.resolve(r.value);
      else (synced ??= this.walSync.sync()).then(() => p.resolve(r.value), (err) => p.reject(this.onError(err)));
    }
  }
}
