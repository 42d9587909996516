// PostgreSQL for `--store postgres`: the server named by --pg-url, or a throw-away cluster with
// fsync on (scripts/pg-temp.mjs --durable) in the scratch dir; a fresh database per server; and
// the database's own CPU, read from its processes in /proc (the postmaster, every backend and
// background worker alive now, and what the postmaster has reaped from exited ones).
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { startTempCluster, stopTempCluster } from '../../scripts/pg-temp.mjs';

/** {url, stop(), postmasterPid?}: an admin URL; `postmasterPid` only for a cluster started here. */
export async function pgForBench({ url }) {
  if (url) return { url, stop: () => {}, postmasterPid: null };
  // its own temp dir: the cluster runs as the postgres user, who cannot enter the bench's private scratch dir
  const c = await startTempCluster({ durable: true, maxConnections: 200 });
  const pid = Number(fs.readFileSync(path.join(c.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  return { url: c.url, stop: () => stopTempCluster(c.dir), postmasterPid: pid };
}

let n = 0;
/** Creates an empty database for one server; returns its URL. */
export async function freshDatabase(adminUrl, name) {
  const db = `aq_bench_${name.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${++n}`;
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try { await c.query(`CREATE DATABASE ${db}`); } finally { await c.end(); }
  const u = new URL(adminUrl);
  u.pathname = '/' + db;
  return u.toString();
}

function stat(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ').map(Number);
    return { ppid: f[1], self: f[11] + f[12], children: f[13] + f[14] };
  } catch { return null; }
}

/** CPU ms used so far by the whole cluster under `postmasterPid` (10 ms ticks); null when unknown. */
export function clusterCpuMs(postmasterPid) {
  if (!postmasterPid) return null;
  const pm = stat(postmasterPid);
  if (!pm) return null;
  let ticks = pm.self + pm.children;
  for (const e of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const s = stat(Number(e));
    if (s && s.ppid === postmasterPid) ticks += s.self;
  }
  return ticks * 10;
}
