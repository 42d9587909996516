// SQLite-only: the group commit's hold of acknowledged writes while an fsync runs (batcher.ts).
// The fsync here is a stand-in the test ends itself, so what is held and when it commits is
// decided by the test, not by the disk's speed.
import Database from 'better-sqlite3';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WriteBatcher, type DurableSync } from '../../src/store/sqlite/batcher.js';
import { tempDir } from '../helpers/temp.js';

/** An fsync the test ends: sync() starts one (or joins the next), end() finishes the running one. */
function manualSync() {
  let running: (() => void)[] | undefined;
  let next: (() => void)[] = [];
  let ended: (() => void)[] = [];
  const s = {
    syncs: 0,
    get busy() {
      return running !== undefined;
    },
    onEnd(fn: () => void) {
      if (running) ended.push(fn);
      else setImmediate(fn);
    },
    sync() {
      return new Promise<void>((resolve) => {
        if (running) next.push(resolve);
        else {
          running = [resolve];
          s.syncs++;
        }
      });
    },
    end() {
      const done = running ?? [];
      running = next.length > 0 ? next : undefined;
      if (running) s.syncs++;
      next = [];
      for (const r of done) r();
      const fns = ended;
      ended = [];
      for (const fn of fns) fn();
    },
  };
  return s satisfies DurableSync & { end(): void };
}

function setup() {
  const db = new Database(path.join(tempDir(), 'b.db'));
  onTestFinished(() => db.close());
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (n INTEGER)');
  const sync = manualSync();
  const batcher = new WriteBatcher(db, undefined, undefined, sync);
  const insert = db.prepare('INSERT INTO t (n) VALUES (?)');
  const rows = () => (db.prepare('SELECT n FROM t ORDER BY rowid').all() as { n: number }[]).map((r) => r.n);
  const write = (n: number, durable = true) => batcher.run(() => insert.run(n), durable).then(() => n);
  return { db, sync, batcher, rows, write };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('group commit while an fsync runs', () => {
  it('holds acknowledged writes of later turns and commits them together when the fsync ends', async () => {
    const { sync, batcher, rows, write } = setup();
    const first = write(1);
    await turn();
    expect(batcher.commits).toBe(1);
    expect(sync.busy).toBe(true);
    const later: Promise<number>[] = [];
    for (let i = 2; i <= 5; i++) {
      later.push(write(i));
      await turn();
    }
    expect(batcher.commits).toBe(1); // held: nothing of 2–5 is in the file yet
    expect(rows()).toEqual([1]);
    sync.end();
    expect(await first).toBe(1);
    await turn();
    expect(batcher.commits).toBe(2); // 2–5 in one transaction
    expect(rows()).toEqual([1, 2, 3, 4, 5]);
    expect(sync.syncs).toBe(2);
    let answered = false;
    void Promise.all(later).then(() => (answered = true));
    await turn();
    expect(answered).toBe(false); // acknowledged only after their own fsync
    sync.end();
    expect(await Promise.all(later)).toEqual([2, 3, 4, 5]);
  });

  it('commits bookkeeping ahead of the first held write at once, and keeps what follows it in order', async () => {
    const { sync, batcher, rows, write } = setup();
    const first = write(1);
    await turn();
    const a = write(2, false);
    await turn();
    expect(await a).toBe(2); // no acknowledged write ahead of it: committed while the fsync runs
    expect(batcher.commits).toBe(2);
    const held = write(3);
    const behind = write(4, false);
    await turn();
    expect(rows()).toEqual([1, 2]);
    sync.end();
    await first;
    expect(await behind).toBe(4);
    expect(rows()).toEqual([1, 2, 3, 4]);
    sync.end();
    expect(await held).toBe(3);
  });

  it('commits at once when no fsync runs, and everything on flush(true)', async () => {
    const { sync, batcher, rows, write } = setup();
    const first = write(1);
    await turn();
    expect(rows()).toEqual([1]);
    const held = write(2);
    await turn();
    expect(rows()).toEqual([1]);
    batcher.flush(true);
    expect(rows()).toEqual([1, 2]);
    sync.end();
    sync.end();
    expect(await Promise.all([first, held])).toEqual([1, 2]);
  });
});
