// PostgreSQL for tests: a fresh database per test file (created on first use, dropped when the
// file ends, see test/setup/per-file.ts) and a fresh schema in it per call of freshPgUrl(), so
// every store or server starts empty. The server comes from test/setup/postgres.ts.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

/** Which store the server helpers use: `AQ_TEST_STORE=postgres` (the postgres project) or SQLite. */
export const testStore: 'sqlite' | 'postgres' = process.env.AQ_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite';

/** The admin URL of the test PostgreSQL server, or '' when PostgreSQL tests are skipped. */
export function pgAdminUrl(): string {
  return inject('pgUrl') ?? '';
}

/** True when a PostgreSQL server is there for tests. */
export function hasPostgres(): boolean {
  return pgAdminUrl() !== '';
}

function withDatabase(url: string, db: string, searchPath?: string): string {
  const u = new URL(url);
  u.pathname = '/' + db;
  if (searchPath) u.searchParams.set('options', `-c search_path=${searchPath}`);
  return u.toString();
}

let fileDb: Promise<string> | undefined;

/** This test file's database (created on first use). */
export function fileDatabaseUrl(): Promise<string> {
  fileDb ??= (async () => {
    const admin = pgAdminUrl();
    if (!admin) throw new Error('no PostgreSQL server for tests (see test/setup/postgres.ts)');
    const name = `aq_test_${process.pid}_${randomBytes(3).toString('hex')}`;
    const c = new pg.Client({ connectionString: admin });
    await c.connect();
    try {
      await c.query(`CREATE DATABASE ${name} TEMPLATE template0`);
    } finally {
      await c.end();
    }
    createdDatabases.push(name);
    return withDatabase(admin, name);
  })();
  return fileDb;
}

/** Databases made by this file, dropped by dropFileDatabases(). */
const createdDatabases: string[] = [];

/** Drops the databases this test file made (its connections are terminated first). */
export async function dropFileDatabases(): Promise<void> {
  if (createdDatabases.length === 0) return;
  const c = new pg.Client({ connectionString: pgAdminUrl() });
  await c.connect();
  try {
    for (const name of createdDatabases.splice(0)) await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await c.end();
  }
  fileDb = undefined;
}

let schemas = 0;

/** A URL whose connections work in a new, empty schema of this file's database. */
export async function freshPgUrl(): Promise<string> {
  const url = await fileDatabaseUrl();
  const schema = `s${++schemas}_${randomBytes(2).toString('hex')}`;
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await c.end();
  }
  return withDatabase(url, new URL(url).pathname.slice(1), schema);
}

/** Runs one SQL statement on `url` with a short-lived connection (for checks and fault injection). */
export async function pgQuery<R = Record<string, unknown>>(url: string, text: string, values?: unknown[]): Promise<R[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const res = await c.query(text, values);
    // several statements (simple protocol): the rows of the last
    return (Array.isArray(res) ? res[res.length - 1].rows : res.rows) as R[];
  } finally {
    await c.end();
  }
}

/**
 * A TCP relay in front of the test PostgreSQL server, to lose the database and bring it back:
 * `down()` drops every connection and refuses new ones, `up()` accepts again on the same port,
 * `mute()` keeps passing requests but swallows the answers (a connection lost mid-statement).
 */
export async function pgRelay(url: string): Promise<{ url: string; down(): Promise<void>; up(): Promise<void>; mute(): void; close(): Promise<void> }> {
  const net = await import('node:net');
  const target = new URL(url);
  const sockets = new Set<import('node:net').Socket>();
  let server: import('node:net').Server | undefined;
  let port = 0;
  let muted = false;
  const up = () =>
    new Promise<void>((resolve, reject) => {
      server = net.createServer((client) => {
        const upstream = net.connect(Number(target.port || 5432), target.hostname);
        sockets.add(client).add(upstream);
        const drop = () => {
          client.destroy();
          upstream.destroy();
          sockets.delete(client);
          sockets.delete(upstream);
        };
        client.on('error', drop).on('close', drop);
        upstream.on('error', drop).on('close', drop);
        client.pipe(upstream);
        // muted: the database's answers are swallowed (it did the work; the client never hears)
        upstream.on('data', (d: Buffer) => {
          if (!muted) client.write(d);
        });
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        port = (server!.address() as import('node:net').AddressInfo).port;
        resolve();
      });
    });
  const down = () =>
    new Promise<void>((resolve) => {
      muted = false;
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (!server) return resolve();
      server.close(() => resolve());
      server = undefined;
    });
  await up();
  const relayed = new URL(url);
  relayed.host = `127.0.0.1:${port}`;
  return { url: relayed.toString(), down, up, mute: () => void (muted = true), close: down };
}
