// Decides whether a --db file is AsyncQueue's before anything writes to it. Ours: a missing or
// empty file (created as ours), a SQLite file carrying AsyncQueue's application_id (set when
// the file is created), or one made before that marker existed, recognized by its tables.
// Everything else is refused by open.ts and left byte for byte as it was.
import Database from 'better-sqlite3';
import fs from 'node:fs';

/** PRAGMA application_id of every AsyncQueue database: "AQue" (SQLite file format §1.3.16). */
export const APPLICATION_ID = 0x41517565;

const MAGIC = 'SQLite format 3\0';
/** Tables and `tasks` columns of schema version 1: a file without the marker is ours only with all of them. */
const V1_TABLES = ['tasks', 'task_labels', 'attempts', 'queues', 'settings', 'counts', 'minute_stats'];
const V1_TASK_COLUMNS = ['seq', 'id', 'queue', 'status', 'target_url', 'attempts_base', 'webhook_run_at', 'schedule_id'];

export type Ownership =
  | { kind: 'new' }
  | { kind: 'ours' }
  /** An AsyncQueue database from before the marker: gets it when opened. */
  | { kind: 'unmarked' }
  | { kind: 'foreign'; reason: string };

/** The first 100 bytes (the SQLite header) and the size of `file`; undefined when it does not exist. */
function header(file: string): { size: number; head: Buffer } | undefined {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const head = Buffer.alloc(100);
    const n = fs.readSync(fd, head, 0, 100, 0);
    return { size: fs.fstatSync(fd).size, head: head.subarray(0, n) };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Looks at a file whose header carries no marker, read-only. A read-only connection to a WAL
 * file without its -wal/-shm creates them (empty): those it created are removed again.
 */
function hasV1Schema(file: string): boolean | 'busy' {
  const siblings = ['-wal', '-shm'].map((s) => file + s).filter((f) => !fs.existsSync(f));
  let db: Database.Database | undefined;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, timeout: 0 });
    const tables = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name));
    if (!V1_TABLES.every((t) => tables.has(t))) return false;
    const columns = new Set((db.prepare('SELECT name FROM pragma_table_info(?)').all('tasks') as { name: string }[]).map((r) => r.name));
    return V1_TASK_COLUMNS.every((c) => columns.has(c));
  } catch (err) {
    // Locked by a running server (an older AsyncQueue): opening it says so.
    return String((err as { code?: unknown }).code).startsWith('SQLITE_BUSY') ? 'busy' : false;
  } finally {
    db?.close();
    for (const f of siblings) {
      try {
        if (fs.existsSync(f) && fs.statSync(f).size <= 32 * 1024) fs.rmSync(f);
      } catch {
        // not ours to worry about
      }
    }
  }
}

/** Whose `file` is, from its bytes alone (and, for a file without the marker, a read-only look). */
export function ownership(file: string, schemaVersion: number): Ownership {
  if (file === ':memory:' || file === '') return { kind: 'new' };
  const h = header(file);
  if (!h || h.size === 0) return { kind: 'new' };
  if (h.head.length < 100 || h.head.toString('latin1', 0, 16) !== MAGIC) return { kind: 'foreign', reason: 'not SQLite, or damaged' };
  const appId = h.head.readUInt32BE(68);
  const userVersion = h.head.readUInt32BE(60);
  if (appId === APPLICATION_ID) return { kind: 'ours' };
  if (appId !== 0) return { kind: 'foreign', reason: `a SQLite database of another application, application_id 0x${appId.toString(16)}` };
  if (userVersion >= 1 && userVersion <= schemaVersion && hasV1Schema(file) !== false) return { kind: 'unmarked' };
  return { kind: 'foreign', reason: 'a SQLite database without AsyncQueue\'s marker or tables' };
}
