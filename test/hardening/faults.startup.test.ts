// Startup refusals of the real binary: a database held by another running AsyncQueue, a file
// that is not an AsyncQueue database (left byte-for-byte untouched), and the loud warning when
// binding beyond loopback without a token.
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, spawnServer } from '../helpers/server.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';
import { hermeticEnv, tempDir } from '../helpers/temp.js';
import { canMount, mountTmpfs, remountReadOnly } from './mount.js';

/** The bytes of a SQLite file made by `build` (then closed), as another application would leave it. */
function sqliteFile(build: (db: Database.Database) => void): Buffer {
  const file = path.join(tempDir(), 'app.db');
  const db = new Database(file);
  build(db);
  db.close();
  return fs.readFileSync(file);
}

/** Runs `serve` expecting it to stop by itself; its exit code and output. */
function serveUntilExit(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { cwd: tempDir(), env: hermeticEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d) => (out += d));
    proc.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    proc.on('exit', (code) => (clearTimeout(timer), resolve({ code, out })));
  });
}

describe('startup refusals', () => {
  it('an empty --token or AQ_TOKEN refuses to start (exit 2) instead of serving without authentication', async () => {
    const db = path.join(tempDir(), 'aq.db');
    const flag = await serveUntilExit(['--db', db, '--token', ' , ']);
    expect(flag.code).toBe(2);
    expect(flag.out).toContain('--token is empty or has a blank entry');
    const env = await serveUntilExit(['--db', db], { AQ_TOKEN: '' });
    expect(env.code).toBe(2);
    expect(env.out).toContain('AQ_TOKEN is empty or has a blank entry');
    expect(fs.existsSync(db)).toBe(false);
  });

  it('a second server on the same database refuses to start with a clear message; the first keeps working', async () => {
    const db = path.join(tempDir(), 'aq.db');
    const first = await spawnServer(['--db', db]);
    const second = await serveUntilExit(['--db', db]);
    expect(second.code).toBe(1);
    expect(second.out).toContain(`${db} is in use by another running AsyncQueue (or another program); only one server may use a database file`);
    const r = await fetch(first.url + '/v1/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ targetUrl: 'http://127.0.0.1:9/', queue: 'q' }) });
    expect(r.status).toBe(201);
  });

  it.each([
    ['random bytes', () => crypto.randomBytes(8192)],
    ['a text file', () => Buffer.from('name,value\nalpha,1\nbeta,2\n')],
    ['a JSON file', () => Buffer.from(JSON.stringify({ tasks: [1, 2, 3] }))],
    ['a damaged SQLite header', () => Buffer.concat([Buffer.from('SQLite format 3\0'), crypto.randomBytes(4080)])],
    ["an application's own SQLite database", () => sqliteFile((db) => db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users (email) VALUES ('a@example.com'); PRAGMA user_version = 7"))],
  ])('a --db file holding %s: clear error, exit 1, the file untouched', async (_what, make) => {
    const dir = tempDir();
    const db = path.join(dir, 'data.db');
    const bytes = make();
    fs.writeFileSync(db, bytes);
    const mtime = fs.statSync(db).mtimeMs;
    const r = await serveUntilExit(['--db', db]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(new RegExp(`${db.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not an AsyncQueue database \\(.+\\); it was left untouched`));
    expect(r.out).not.toMatch(/\n\s+at /); // no stack trace
    expect(fs.readFileSync(db).equals(bytes)).toBe(true);
    expect(fs.statSync(db).mtimeMs).toBe(mtime);
    expect(fs.readdirSync(dir)).toEqual(['data.db']); // no -wal or -journal left beside it
  });
});

describe('read-only file system at start', () => {
  it.skipIf(!canMount())('a database on a read-only file system: a clear error, exit 1, the file untouched', async () => {
    const mnt = mountTmpfs('4m');
    const db = path.join(mnt, 'aq.db');
    await new SqliteStore({ file: db }).close();
    const bytes = fs.readFileSync(db);
    remountReadOnly(mnt);
    const r = await serveUntilExit(['--db', db]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`cannot open database ${db}: ${db} is on a read-only file system; AsyncQueue needs to write the file and its folder`);
    expect(fs.readFileSync(db).equals(bytes)).toBe(true);
  });
});

describe('binding beyond loopback', () => {
  it('without a token prints a loud warning on stderr', async () => {
    const s = await spawnServer(['--host', '0.0.0.0', '--db', path.join(tempDir(), 'aq.db')]);
    expect(s.output()).toMatch(/WARNING: AsyncQueue is listening on 0\.0\.0\.0 without a token/);
    expect((await fetch(s.url + '/healthz')).status).toBe(200);
  });

  it('with a token, or on loopback, prints no warning', async () => {
    const withToken = await spawnServer(['--host', '0.0.0.0', '--token', 'tok-0123456789', '--db', path.join(tempDir(), 'a.db')]);
    const loopback = await spawnServer(['--db', path.join(tempDir(), 'b.db')]);
    expect(withToken.output()).not.toMatch(/WARNING/);
    expect(loopback.output()).not.toMatch(/WARNING/);
    expect(withToken.output()).not.toContain('tok-0123456789');
  });
});
