// The connection and its prepared-statement cache, shared by the SQL modules of this store.
import type Database from 'better-sqlite3';

export interface Ctx {
  db: Database.Database;
  /** A prepared statement for `sql`, prepared once per connection. */
  stmt(sql: string): Database.Statement;
}

export function createCtx(db: Database.Database): Ctx {
  const cache = new Map<string, Database.Statement>();
  return {
    db,
    stmt(sql) {
      let s = cache.get(sql);
      if (!s) {
        s = db.prepare(sql);
        cache.set(sql, s);
      }
      return s;
    },
  };
}
