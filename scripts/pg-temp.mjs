// A throw-away PostgreSQL cluster in a temp directory on a free 127.0.0.1 port, for the tests
// (test/setup/postgres.ts), CI (.ci/run) and the benchmarks. Uses the installed server binaries
// (Debian's /usr/lib/postgresql/<version>/bin, or initdb on PATH); as root, the cluster runs as
// the `postgres` user, because initdb refuses to run as root.
//
//   node scripts/pg-temp.mjs start <dir> [--durable]   prints the URL once the cluster accepts connections
//   node scripts/pg-temp.mjs stop <dir>                stops it and removes <dir>
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory holding initdb and pg_ctl, or undefined when PostgreSQL is not installed. */
export function findPgBin() {
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs.readdirSync(debian).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
    for (const v of versions) {
      const bin = path.join(debian, v, 'bin');
      if (fs.existsSync(path.join(bin, 'initdb')) && fs.existsSync(path.join(bin, 'pg_ctl'))) return bin;
    }
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && fs.existsSync(path.join(dir, 'initdb')) && fs.existsSync(path.join(dir, 'pg_ctl'))) return dir;
  }
  try {
    const bin = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    if (fs.existsSync(path.join(bin, 'initdb'))) return bin;
  } catch {
    // no pg_config either
  }
  return undefined;
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a PostgreSQL binary, as the `postgres` user when we are root. */
function runPg(bin, args, opts = {}) {
  const [cmd, argv] = isRoot() ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${path.basename(bin)} failed (exit ${r.status}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-5).join(' | ')}`);
  return r.stdout;
}

/**
 * Starts a cluster in `dir` (created; default a new temp dir). `durable`: fsync on (benchmarks);
 * otherwise fsync and synchronous commit are off, which a throw-away test database does not need.
 * Resolves with `{ url, dir, stop() }`.
 */
export async function startTempCluster({ dir, durable = false, maxConnections = 400 } = {}) {
  const bin = findPgBin();
  if (!bin) throw new Error('PostgreSQL is not installed (no initdb found)');
  dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'aq-pg-'));
  fs.mkdirSync(dir, { recursive: true });
  const data = path.join(dir, 'data');
  if (isRoot()) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    fs.chownSync(dir, uid, gid);
  }
  runPg(path.join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync', '--no-instructions']);
  const port = await freePort();
  const settings = [
    `-p ${port}`, `-k ${dir}`, '-c listen_addresses=127.0.0.1', `-c max_connections=${maxConnections}`,
    ...(durable ? [] : ['-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off']),
  ];
  runPg(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-o', settings.join(' '), 'start'], { stdio: ['ignore', 'pipe', 'pipe'] });
  fs.writeFileSync(path.join(dir, 'port'), String(port));
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const stop = () => stopTempCluster(dir);
  return { url, dir, port, stop };
}

/** Stops the cluster in `dir` (immediately: it is thrown away) and removes the directory. */
export function stopTempCluster(dir) {
  const bin = findPgBin();
  const data = path.join(dir, 'data');
  if (bin && fs.existsSync(path.join(data, 'postmaster.pid'))) {
    try {
      runPg(path.join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { stdio: ['ignore', 'pipe', 'pipe'] });
    } catch {
      // already stopped
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [cmd, dir] = process.argv.slice(2);
  if (cmd === 'start' && dir) {
    startTempCluster({ dir: path.resolve(dir), durable: process.argv.includes('--durable') }).then(
      (c) => process.stdout.write(c.url + '\n'),
      (err) => {
        process.stderr.write(`cannot start PostgreSQL: ${err.message}\n`);
        process.exit(1);
      },
    );
  } else if (cmd === 'stop' && dir) {
    stopTempCluster(path.resolve(dir));
  } else {
    process.stderr.write('usage: node scripts/pg-temp.mjs start|stop <dir> [--durable]\n');
    process.exit(2);
  }
}
