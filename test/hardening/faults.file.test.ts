// The database file is AsyncQueue's or it is left alone: "ours" is decided from the file's
// header before anything writes (a new or empty file, AsyncQueue's application_id, or an older
// AsyncQueue database recognized by its tables); every other SQLite file is refused and stays
// byte for byte as it was. And once open, a database deleted or replaced under the server is
// noticed: writes answer 503, /healthz fails, and the log says so at error level.
import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { SqliteStore, StoreOpenError } from '../../src/store/sqlite/index.js';
import { MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { APPLICATION_ID } from '../../src/store/sqlite/ownership.js';
import { startServer } from '../helpers/server.js';
import { taskInput } from '../helpers/tasks.js';
import { tempDir } from '../helpers/temp.js';

const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
const T = 'http://127.0.0.1:9/never';

/** A SQLite file built by `build` in a fresh folder, closed; its path. */
function sqliteFile(build: (db: Database.Database) => void): string {
  const file = path.join(tempDir(), 'app.db');
  const db = new Database(file);
  build(db);
  db.close();
  return file;
}

describe('whose file it is, decided before writing', () => {
  it.each([
    ['a users table (rollback journal)', (db: Database.Database) => db.exec("CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT); INSERT INTO users (email) VALUES ('a@example.com')")],
    ['a users table in WAL mode, user_version 1', (db: Database.Database) => db.exec("PRAGMA journal_mode = WAL; CREATE TABLE users (id INTEGER PRIMARY KEY); PRAGMA user_version = 1")],
    ['its own tasks table, user_version 1', (db: Database.Database) => db.exec('CREATE TABLE tasks (id TEXT PRIMARY KEY, title TEXT); PRAGMA user_version = 1')],
    ['another application_id', (db: Database.Database) => db.exec('PRAGMA application_id = 1234; CREATE TABLE t (x)')],
  ])('a SQLite file with %s is refused with a clear message and left byte for byte untouched', (_what, build) => {
    const file = sqliteFile(build);
    const before = sha256(file);
    const listing = fs.readdirSync(path.dirname(file));
    const mtime = fs.statSync(file).mtimeMs;
    expect(() => new SqliteStore({ file })).toThrow(StoreOpenError);
    expect(() => new SqliteStore({ file })).toThrow(/app\.db is not an AsyncQueue database \(.+\); it was left untouched\. Give --db a new file, or an empty one/);
    console.log(`foreign file (${_what}) sha256 before ${before.slice(0, 16)} after ${sha256(file).slice(0, 16)}`);
    expect(sha256(file)).toBe(before);
    expect(fs.statSync(file).mtimeMs).toBe(mtime);
    expect(fs.readdirSync(path.dirname(file))).toEqual(listing); // no -wal, -shm or -journal left
  });

  it('a new file and an empty file become AsyncQueue databases, marked with its application_id', async () => {
    for (const make of [(f: string) => f, (f: string) => (fs.writeFileSync(f, ''), f)]) {
      const file = make(path.join(tempDir(), 'aq.db'));
      const store = new SqliteStore({ file });
      await store.setSetting('k', 'v');
      await store.close();
      expect(fs.readFileSync(file).readUInt32BE(68)).toBe(APPLICATION_ID);
      const again = new SqliteStore({ file });
      expect(await again.getSetting('k')).toBe('v');
      await again.close();
    }
  });

  it('a database of an earlier AsyncQueue (tables, no marker) is opened and gets the marker', async () => {
    const file = sqliteFile((db) => {
      db.pragma('journal_mode = WAL');
      db.exec(MIGRATIONS[0]!);
      db.exec("INSERT INTO settings (key, value) VALUES ('k', 'old')");
      db.pragma('user_version = 1');
    });
    expect(fs.readFileSync(file).readUInt32BE(68)).toBe(0);
    const store = new SqliteStore({ file });
    expect(await store.getSetting('k')).toBe('old');
    await store.close();
    expect(fs.readFileSync(file).readUInt32BE(68)).toBe(APPLICATION_ID);
  });
});

describe('the database file deleted or replaced while the server runs', () => {
  it.each([
    ['deleted', (db: string) => (fs.rmSync(db), fs.rmSync(db + '-wal', { force: true }))],
    ['replaced by another file', (db: string) => (fs.writeFileSync(db + '.new', ''), fs.renameSync(db + '.new', db))],
  ])('%s: creates answer 503 instead of 201, /healthz fails, and the log says so at error level', async (_what, harm) => {
    const lines: { level: string; msg: string; reason?: string }[] = [];
    const s = await startServer({ logger: createLogger('warn', (l) => lines.push(JSON.parse(l))) });
    expect((await s.api('/v1/tasks', { body: taskInput(T) })).status).toBe(201);
    expect((await s.api('/healthz')).status).toBe(200);
    harm(path.join(s.dir, 'aq.db'));
    const r = await s.api('/v1/tasks', { body: taskInput(T) });
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe('unavailable');
    expect((await s.api('/v1/tasks/batch', { body: { tasks: [taskInput(T)] } })).status).toBe(503);
    expect(await s.api('/healthz')).toMatchObject({ status: 503, body: { ok: false } });
    const loud = lines.filter((l) => l.level === 'error' && l.msg.startsWith('THE DATABASE FILE IS GONE'));
    expect(loud).toHaveLength(1);
    expect(loud[0]!.reason).toMatch(/aq\.db was (deleted|replaced by another file) while the server was running/);
  });
});
