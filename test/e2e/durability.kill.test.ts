// Durability (api.md §3 "a 201 means durably stored"): acknowledged tasks survive a SIGKILL in
// both modes, and under strace the WAL fsync is seen between each commit and its 201 in `full`.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BIN, spawnServer } from '../helpers/server.js';
import { hermeticEnv, tempDir } from '../helpers/temp.js';

async function post(url: string, body: unknown) {
  const r = await fetch(url + '/v1/tasks', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (await r.json()) as { id: string } };
}

describe('durability', () => {
  for (const durability of ['full', 'normal']) {
    it(`every task acknowledged with 201 survives a SIGKILL right after (durability ${durability})`, async () => {
      const db = path.join(tempDir(), 'aq.db');
      const first = await spawnServer(['--db', db, '--durability', durability]);
      // Tasks far in the future stay pending, so the restart finds them exactly as created.
      const created = await Promise.all(
        Array.from({ length: 300 }, (_, i) => post(first.url, { targetUrl: 'http://127.0.0.1:9/x', delay: 3600, payload: { i }, labels: ['durable'] })),
      );
      first.proc.kill('SIGKILL');
      await first.exited;
      expect(created.every((r) => r.status === 201)).toBe(true);

      const second = await spawnServer(['--db', db]);
      const got = await Promise.all(created.map(async (r) => {
        const res = await fetch(`${second.url}/v1/tasks/${r.body.id}`);
        return { status: res.status, body: await res.json() };
      }));
      expect(got.map((g) => g.status)).toEqual(created.map(() => 200));
      got.forEach((g, i) => expect(g.body).toMatchObject({ id: created[i]!.body.id, status: 'pending', labels: ['durable'] }));
      const stats = (await (await fetch(`${second.url}/v1/stats`)).json()) as { counts: { pending: number } };
      expect(stats.counts.pending).toBe(300);
      second.proc.kill('SIGTERM');
      expect(await second.exited).toBe(0);
    });
  }
});

// A SIGKILL cannot tell `full` from `normal` (the OS keeps what the process wrote); a power
// cut can. So the sync itself is observed: under strace, every 201 of --durability full must be
// preceded by an fsync of the WAL that completed after that create's commit (its WAL write), and
// with --durability normal no such fsync is made.
const STRACE = (() => {
  const r = spawnSync('strace', ['-f', '-e', 'trace=fsync', '-o', '/dev/null', 'true'], { stdio: 'ignore' });
  if (r.error) return { ok: false, reason: 'strace is not installed' };
  if (r.status !== 0) return { ok: false, reason: 'strace cannot trace here (ptrace not permitted)' };
  return { ok: true, reason: '' };
})();
if (!STRACE.ok) console.warn(`durability: the fsync checks are skipped: ${STRACE.reason}`);

/** Runs `serve` under strace, makes `n` creates one after another, stops it; the traced events in order. */
async function tracedCreates(durability: string, n: number): Promise<('commit' | 'sync' | 'created')[]> {
  const dir = tempDir();
  const trace = path.join(dir, 'trace.txt');
  const proc = spawn(
    'strace',
    ['-f', '-y', '-s', '24', '-o', trace, '-e', 'trace=pwrite64,fsync,fdatasync,write,writev', process.execPath, BIN, 'serve', '--port', '0', '--log-level', 'warn',
      '--db', path.join(dir, 'aq.db'), '--durability', durability],
    { cwd: dir, env: hermeticEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  proc.stderr.on('data', (d) => (out += d));
  const exited = new Promise<void>((r) => proc.on('close', () => r()));
  const serverPid = () => Number(fs.readFileSync(trace, 'utf8').split(' ', 1)[0]);
  onTestFinished(async () => {
    if (proc.exitCode !== null) return;
    try {
      process.kill(serverPid(), 'SIGKILL');
    } catch {
      proc.kill('SIGKILL');
    }
    await exited;
  });
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    proc.stdout.on('data', check);
    proc.stderr.on('data', check);
    proc.on('close', () => reject(new Error(`serve under strace exited:\n${out}`)));
  });
  for (let i = 0; i < n; i++) expect((await post(url, { targetUrl: 'http://127.0.0.1:9/x', delay: 3600, payload: { i } })).status).toBe(201);
  process.kill(serverPid(), 'SIGTERM'); // the server, not strace (which would detach and leave it running)
  await exited;

  const events: ('commit' | 'sync' | 'created')[] = [];
  const unfinished = new Map<string, boolean>(); // pid → an fsync of the WAL is under way
  for (const line of fs.readFileSync(trace, 'utf8').split('\n')) {
    const at = line.indexOf(' ');
    const pid = line.slice(0, at);
    const call = line.slice(at + 1).trimStart();
    if (/^f(data)?sync\(/.test(call)) {
      const wal = /-wal>/.test(call);
      if (call.includes('<unfinished')) unfinished.set(pid, wal);
      else if (wal && / = 0$/.test(call)) events.push('sync');
    } else if (/^<\.\.\. f(data)?sync resumed>/.test(call)) {
      if (unfinished.get(pid) && / = 0$/.test(call)) events.push('sync');
      unfinished.delete(pid);
    } else if (/^pwrite64\(\d+<[^>]*-wal>/.test(call)) events.push('commit');
    else if (/^writev?\(/.test(call) && call.includes('HTTP/1.1 201')) events.push('created');
  }
  return events;
}

/** For each 201, whether an fsync of the WAL completed after a WAL write since the previous 201. */
function syncedBeforeEach201(events: ('commit' | 'sync' | 'created')[]): boolean[] {
  const out: boolean[] = [];
  let committed = false;
  let synced = false;
  for (const e of events) {
    if (e === 'commit') (committed = true), (synced = false);
    else if (e === 'sync' && committed) synced = true;
    else if (e === 'created') {
      out.push(committed && synced);
      committed = synced = false;
    }
  }
  return out;
}

describe.skipIf(!STRACE.ok)('durability as the disk sees it (strace)', () => {
  it('with --durability full, each 201 comes after an fsync of the WAL that followed its commit', async () => {
    const synced = syncedBeforeEach201(await tracedCreates('full', 6));
    expect(synced).toEqual([true, true, true, true, true, true]);
  });

  it('with --durability normal, the 201 does not wait for any fsync', async () => {
    const synced = syncedBeforeEach201(await tracedCreates('normal', 6));
    expect(synced).toEqual([false, false, false, false, false, false]);
  });
});
