// startServer: a real AsyncQueue server in this process on 127.0.0.1:0 with a SQLite file in a
// temp dir; closed when the test finishes. spawnServer: the same as a child process (`serve`),
// for crash and signal tests. In the `postgres` test project (AQ_TEST_STORE=postgres) both use
// PostgreSQL instead: each SQLite path a test names stands for its own fresh schema (the same
// path, the same database, so restarts find their data) and node id (see testDb).
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { createServer, type AsyncQueueServer, type ServerOptions } from '../../src/server.js';
import { silentLogger } from '../../src/log.js';
import type { SqliteStore } from '../../src/store/sqlite/index.js';
import { freshPgUrl, testStore } from './postgres.js';
import { hermeticEnv, tempDir } from './temp.js';

export { testStore } from './postgres.js';

const pgUrls = new Map<string, Promise<string>>();

/**
 * The `--db` value for the SQLite path `file` in the store under test: the path itself with
 * SQLite; with PostgreSQL, a fresh schema made on first use of that path and reused after, plus a
 * node id derived from the path (a restarted server is the same node and recovers its own work).
 */
export async function testDb(file: string): Promise<{ db: string; nodeId?: string }> {
  if (testStore !== 'postgres') return { db: file };
  let url = pgUrls.get(file);
  if (!url) pgUrls.set(file, (url = freshPgUrl()));
  return { db: await url, nodeId: 'node-' + createHash('sha256').update(file).digest('hex').slice(0, 12) };
}

export interface TestServer extends Omit<AsyncQueueServer, 'store'> {
  /** The SQLite store behind the server, with its connection (for fault injection and checks); a PostgresStore in the postgres project. */
  store: SqliteStore;
  dir: string;
  token?: string;
  /** fetch against the server with JSON defaults (and the token, if any). */
  api(pathname: string, init?: { method?: string; body?: unknown; headers?: Record<string, string>; raw?: string }): Promise<{ status: number; body: any; headers: Headers }>;
}

export async function startServer(opts: ServerOptions = {}): Promise<TestServer> {
  const dir = tempDir();
  const { db, nodeId } = await testDb(opts.db ?? path.join(dir, 'aq.db'));
  const server = await createServer({ port: 0, logger: silentLogger, shutdownGrace: 2000, ...opts, db, nodeId: opts.nodeId ?? nodeId });
  onTestFinished(() => server.close(0));
  const token = typeof opts.token === 'string' ? opts.token.split(',')[0] : undefined;
  const api: TestServer['api'] = async (pathname, init = {}) => {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (token && !('authorization' in headers)) headers.authorization = `Bearer ${token}`;
    let body: string | undefined = init.raw;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(server.url + pathname, { method: init.method ?? (body !== undefined ? 'POST' : 'GET'), headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON; keep the text
    }
    return { status: res.status, body: parsed, headers: res.headers };
  };
  return Object.assign(server, { dir, token, api }) as unknown as TestServer;
}

const ROOT = path.resolve(import.meta.dirname, '../..');
export const BIN = path.join(ROOT, 'bin', 'asyncqueue.js');

export interface SpawnedServer {
  url: string;
  proc: ChildProcess;
  output: () => string;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
}

/**
 * Starts `asyncqueue serve` as a child process on a free port; resolves once it listens. Killed
 * when the test ends. It runs in a temp dir with a temp `--db` unless `args` name one, and with
 * no `AQ_*` variable of the caller's environment, so it never touches the working copy.
 */
export async function spawnServer(args: string[], env: Record<string, string> = {}): Promise<SpawnedServer> {
  const dir = tempDir();
  if (!args.includes('--db')) args = ['--db', path.join(dir, 'aq.db'), ...args];
  args = await testArgs(args);
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--log-level', 'warn', ...args], {
    cwd: dir,
    env: hermeticEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  proc.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
  onTestFinished(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  });
  // No start deadline of its own: the test's timeout bounds it (a loaded machine starts slowly).
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    proc.stdout!.on('data', check);
    proc.stderr!.on('data', check);
    proc.on('exit', () => reject(new Error(`server exited before listening:\n${out}`)));
  });
  return { url, proc, output: () => out, exited };
}

/** `serve` arguments for the store under test: `--db <sqlite path>` becomes its PostgreSQL stand-in (testDb). */
export async function testArgs(args: string[]): Promise<string[]> {
  const i = args.indexOf('--db');
  if (testStore !== 'postgres' || i < 0 || i + 1 >= args.length) return args;
  const { db, nodeId } = await testDb(args[i + 1]!);
  const out = [...args];
  out[i + 1] = db;
  if (!out.includes('--node-id') && nodeId) out.push('--node-id', nodeId);
  return out;
}
