// Opens the SQLite file: refuses, before writing anything, a file that is not AsyncQueue's
// (ownership.ts) or is used by another running AsyncQueue; marks a new file as AsyncQueue's,
// sets WAL, the durability mode and an exclusive lock, then migrates.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { migrate, SCHEMA_VERSION } from './migrations.js';
import { APPLICATION_ID, ownership, type Ownership } from './ownership.js';

export class StoreOpenError extends Error {
  override name = 'StoreOpenError';
}

function sqliteCode(err: unknown): string {
  return String((err as { code?: unknown })?.code ?? '');
}

/** Why `file` or its folder cannot be written (read-only file system, permissions), if so. */
function readOnlyReason(file: string): string | undefined {
  for (const p of [file, path.dirname(path.resolve(file))]) {
    try {
      if (fs.existsSync(p)) fs.accessSync(p, fs.constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return code === 'EROFS' ? `${p} is on a read-only file system` : `${p} is not writable (${code})`;
    }
  }
  return undefined;
}

/** Opens (creating if absent) the database at `file`; throws StoreOpenError with a clear message. */
export function openDatabase(file: string, durability: 'full' | 'normal'): Database.Database {
  if (file !== ':memory:') {
    const dir = path.dirname(path.resolve(file));
    if (!fs.existsSync(dir)) throw new StoreOpenError(`cannot open database ${file}: folder ${dir} does not exist`);
  }
  let own: Ownership;
  try {
    own = ownership(file, SCHEMA_VERSION);
  } catch (err) {
    throw new StoreOpenError(`cannot open database ${file}: ${(err as Error).message}`);
  }
  if (own.kind === 'foreign') {
    throw new StoreOpenError(`${file} is not an AsyncQueue database (${own.reason}); it was left untouched. Give --db a new file, or an empty one`);
  }
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 0 });
  } catch (err) {
    throw new StoreOpenError(`cannot open database ${file}: ${(err as Error).message}`);
  }
  try {
    // Exclusive locking: one AsyncQueue per file, so two dispatchers never run on one database.
    // It also keeps the WAL index in process memory (no -shm file).
    db.pragma('locking_mode = EXCLUSIVE');
    // The marker goes into a new file first, in its own header, before WAL or any table.
    if (own.kind === 'new') db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma('journal_mode = WAL');
    db.exec('BEGIN IMMEDIATE; COMMIT');
    if (own.kind === 'unmarked') db.pragma(`application_id = ${APPLICATION_ID}`);
  } catch (err) {
    db.close();
    const code = sqliteCode(err);
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new StoreOpenError(`${file} is not an AsyncQueue database (not SQLite, or damaged); it was left untouched`);
    }
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      throw new StoreOpenError(`${file} is in use by another running AsyncQueue (or another program); only one server may use a database file`);
    }
    const ro = readOnlyReason(file);
    if (ro) throw new StoreOpenError(`cannot open database ${file}: ${ro}; AsyncQueue needs to write the file and its folder`);
    throw new StoreOpenError(`cannot open database ${file}: ${(err as Error).message}`);
  }
  db.pragma(`synchronous = ${durability === 'full' ? 'FULL' : 'NORMAL'}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = OFF');
  db.pragma('temp_store = MEMORY');
  db.pragma('cache_size = -16000'); // 16 MiB of pages; the OS page cache holds the rest of the file
  db.pragma('wal_autocheckpoint = 4000');
  try {
    migrate(db);
  } catch (err) {
    db.close();
    if (err instanceof Error && err.name === 'SchemaTooNewError') throw new StoreOpenError(err.message);
    const code = sqliteCode(err);
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new StoreOpenError(`${file} is not an AsyncQueue database (not SQLite, or damaged); it was left untouched`);
    }
    throw err;
  }
  return db;
}

/** True when a SQLite error means "cannot write now" (disk full, read-only, I/O), not a bug. */
export function isUnavailable(err: unknown): boolean {
  const code = sqliteCode(err);
  return /^SQLITE_(FULL|READONLY|IOERR|CANTOPEN|BUSY|LOCKED|PROTOCOL|NOMEM)/.test(code);
}
