// Durable commits without blocking the event loop: commits are written with synchronous=NORMAL
// (WAL frames in the OS cache), then the WAL file is fsynced on libuv's thread pool and only
// then are the acknowledged writes answered. While one fsync runs, later commits queue for
// the next one, so each fsync covers every commit before it (group commit across turns).
import fs from 'node:fs';
import path from 'node:path';

export class WalSync {
  private fd: number | undefined;
  private running = false;
  private waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  /** fsync calls made so far. */
  syncs = 0;
  /** Called once each time an fsync ends (the batcher commits the writes it held meanwhile). */
  private ended: (() => void)[] = [];

  /** `walPath`: the database's `-wal` file (it exists once the database has been written). */
  constructor(private readonly walPath: string) {}

  /** True while an fsync runs. */
  get busy(): boolean {
    return this.running;
  }

  /** Calls `fn` once, when the fsync running now ends (at once on the next turn if none runs). */
  onEnd(fn: () => void): void {
    if (!this.running) setImmediate(fn);
    else this.ended.push(fn);
  }

  /** Resolves once everything committed before this call is on disk. */
  sync(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.running) this.start();
    });
  }

  private open(): number {
    if (this.fd === undefined) {
      this.fd = fs.openSync(this.walPath, 'r');
      // The WAL's directory entry must be durable too (a new file); once is enough.
      const dir = fs.openSync(path.dirname(this.walPath), 'r');
      try {
        fs.fsyncSync(dir);
      } finally {
        fs.closeSync(dir);
      }
    }
    return this.fd;
  }

  private start(): void {
    const batch = this.waiting;
    this.waiting = [];
    this.running = true;
    let fd: number;
    try {
      fd = this.open();
    } catch (err) {
      this.running = false;
      for (const w of batch) w.reject(err);
      return;
    }
    this.syncs++;
    fs.fsync(fd, (err) => {
      this.running = false;
      for (const w of batch) err ? w.reject(err) : w.resolve();
      if (this.waiting.length > 0) this.start();
      const ended = this.ended;
      this.ended = [];
      for (const fn of ended) fn();
    });
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}
