// The connection pool and the two ways SQL runs on it: one statement (its own transaction), or
// a transaction of several. Lost connections and a database that refuses work become
// StoreUnavailableError (the API answers 503); deadlocks and serialization failures retry.
import pg from 'pg';
import { StoreUnavailableError } from '../store.js';

/** Something SQL can run on: the pool (one statement, autocommit) or a client inside a transaction. */
export interface Sql {
  /** Rows of `text` with `values`; `name` prepares it once per connection (hot statements). */
  query<R = Record<string, unknown>>(text: string, values?: unknown[], name?: string): Promise<R[]>;
}

// bigint (int8) as a JS number: seqs, counts and millisecond times stay far below 2^53.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as 'text');
  },
};

/** SQLSTATE classes and codes that mean "the database cannot do work now", not a bug in a statement. */
function unavailableCode(code: string): boolean {
  return (
    code.startsWith('08') || // connection exception
    code.startsWith('53') || // insufficient resources (disk full, too many connections)
    code.startsWith('57P') || // operator intervention: admin shutdown, crash shutdown, cannot connect now
    code === '25006' || // read-only transaction (a standby, default_transaction_read_only)
    code === '58030' // I/O error
  );
}

/** True when `err` means the database is unreachable or refuses work (so the caller may try again later). */
export function isUnavailable(err: unknown): boolean {
  if (err instanceof StoreUnavailableError) return true;
  const e = err as { code?: unknown; message?: unknown };
  const code = typeof e?.code === 'string' ? e.code : '';
  if (code && unavailableCode(code)) return true;
  if (/^E(CONNREFUSED|CONNRESET|PIPE|HOSTUNREACH|NETUNREACH|TIMEDOUT|AI_AGAIN)$|^ENOTFOUND$/.test(code)) return true;
  const msg = typeof e?.message === 'string' ? e.message : '';
  return /Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended|Client was closed/i.test(msg);
}

export function mapError(err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  if (isUnavailable(err)) return new StoreUnavailableError(`the database cannot be reached: ${(err as Error).message}`, { cause: err });
  return err;
}

/** Deadlock or serialization failure: the transaction was rolled back as a whole and may run again. */
function retryable(err: unknown): boolean {
  const code = (err as { code?: unknown })?.code;
  return code === '40P01' || code === '40001';
}

async function run<R>(c: pg.Pool | pg.PoolClient, text: string, values: unknown[] | undefined, name: string | undefined): Promise<R[]> {
  const res = await c.query(name ? { name, text, values } : { text, values });
  return res.rows as R[];
}

/** `url` with a server setting added to its libpq `options` parameter (kept with any the URL has). */
export function withOption(url: string, option: string): string {
  try {
    const u = new URL(url);
    const given = u.searchParams.get('options');
    u.searchParams.set('options', given ? `${given} ${option}` : option);
    return u.toString();
  } catch {
    return url;
  }
}

export interface PoolOptions {
  /** postgres:// or postgresql:// URL (libpq's parameters, e.g. sslmode, options). */
  url: string;
  /** Connections (default 10). */
  max?: number;
  /** How long a statement may wait for a connection before it fails as unavailable, in ms (default 5000). */
  connectTimeoutMs?: number;
  /** Commits return before their WAL is flushed (`synchronous_commit = off` on every connection). */
  asyncCommit?: boolean;
  /** More server settings for every connection, as libpq `options` (`-c name=value …`). */
  options?: string;
}

export class Db implements Sql {
  readonly pool: pg.Pool;
  /** The connection settings, for extra clients (e.g. a listening one) on the same database. */
  readonly config: pg.PoolConfig;
  private closed = false;

  constructor(o: PoolOptions, onIdleError: (err: Error) => void) {
    this.config = {
      connectionString: [o.asyncCommit ? '-c synchronous_commit=off' : '', o.options ?? ''].filter(Boolean).reduce((u, opt) => withOption(u, opt), o.url),
      max: o.max ?? 10,
      connectionTimeoutMillis: o.connectTimeoutMs ?? 5000,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      application_name: 'asyncqueue',
      types,
    } as pg.PoolConfig;
    this.pool = new pg.Pool(this.config);
    // A pooled connection that dies while idle (database restarted) must not crash the process.
    this.pool.on('error', onIdleError);
  }

  private check(): void {
    if (this.closed) throw new StoreUnavailableError('the store is closed');
  }

  async query<R = Record<string, unknown>>(text: string, values?: unknown[], name?: string): Promise<R[]> {
    this.check();
    for (let i = 0; ; i++) {
      try {
        return await run<R>(this.pool, text, values, name);
      } catch (err) {
        if (retryable(err) && i < 5) continue;
        throw mapError(err);
      }
    }
  }

  /** Runs `fn` in one transaction (READ COMMITTED); re-runs it whole after a deadlock. */
  async tx<T>(fn: (sql: Sql) => Promise<T>): Promise<T> {
    this.check();
    for (let i = 0; ; i++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (err) {
        throw mapError(err);
      }
      const sql: Sql = { query: (text, values, name) => run(client, text, values, name) };
      let broken = false;
      try {
        await client.query('BEGIN');
        const value = await fn(sql);
        await client.query('COMMIT');
        return value;
      } catch (err) {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true; // the connection is gone; the server rolled back
        }
        if (retryable(err) && i < 5) continue;
        if (isUnavailable(err)) broken = true;
        throw mapError(err);
      } finally {
        client.release(broken || undefined);
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
