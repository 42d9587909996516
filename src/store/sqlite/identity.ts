// Notices that the database file (or its WAL) was deleted or replaced under a running server:
// SQLite keeps writing to the unlinked inodes, answers keep saying "stored", and everything is
// gone at the next start. The check is a stat() of each path against the device and inode seen
// at open; the batcher runs it after each commit, before any write is acknowledged.
import fs from 'node:fs';

interface Seen {
  path: string;
  dev: number;
  ino: number;
}

export class FileIdentity {
  private readonly seen: Seen[] = [];

  /** Records `paths` as they are now (those that exist; a -wal appears with the first write). */
  constructor(private readonly paths: string[]) {
    this.record();
  }

  private record(): void {
    for (const p of this.paths) {
      if (this.seen.some((s) => s.path === p)) continue;
      try {
        const st = fs.statSync(p);
        this.seen.push({ path: p, dev: st.dev, ino: st.ino });
      } catch {
        // not there yet
      }
    }
  }

  /** Why a recorded file is no longer the one in use (deleted, replaced), or undefined when all are. */
  check(): string | undefined {
    if (this.seen.length < this.paths.length) this.record();
    for (const s of this.seen) {
      let st: fs.Stats;
      try {
        st = fs.statSync(s.path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return `${s.path} was deleted while the server was running`;
        continue; // EACCES and the like: not a sign of replacement
      }
      if (st.ino !== s.ino || st.dev !== s.dev) return `${s.path} was replaced by another file while the server was running`;
    }
    return undefined;
  }
}
