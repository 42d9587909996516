// How busy the machine is, from /proc/stat: other engineers' test runs on the
// same cores make every figure low, so each scenario waits (bounded) for a
// quiet moment and the busy share seen is recorded next to its figures.
import fs from 'node:fs';
import { sleep } from './common.mjs';

function cpuTimes() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] || 0);
  return { idle, total: f.reduce((a, b) => a + b, 0) };
}

/** Share of all cores busy over the next ms milliseconds (0..1). */
export async function busyShare(ms = 1000) {
  const a = cpuTimes(); await sleep(ms); const b = cpuTimes();
  const total = b.total - a.total;
  return total > 0 ? 1 - (b.idle - a.idle) / total : 0;
}

/** Waits until the machine is at most `threshold` busy (1 s samples), for up to maxS seconds. Returns the last share. */
export async function waitQuiet({ threshold = 0.15, maxS = 0 } = {}) {
  const end = Date.now() + maxS * 1000;
  let s = await busyShare();
  while (s > threshold && Date.now() < end) s = await busyShare();
  return Math.round(s * 100) / 100;
}

/** CPU time (user + system) used so far by pid, in ms (10 ms resolution); 0 when gone. */
export const cpuMs = (pid) => procTicks(pid, false) * 10;

function procTicks(pid, withChildren) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ').map(Number); // f[11] = utime (field 14)
    return f[11] + f[12] + (withChildren ? f[13] + f[14] : 0);
  } catch { return 0; }
}

/**
 * CPU used by processes other than this one, its reaped children (servers and
 * load generators, once stopped) and the long-lived `pids` (the target), as a
 * share of all cores between start() and end(). `extraMs()`: CPU ms of processes of ours that are
 * not children (the benchmark's PostgreSQL cluster).
 */
export function foreignCpu(pids = [], extraMs = () => 0) {
  const snap = () => { const c = cpuTimes(); return { busy: c.total - c.idle, total: c.total, own: procTicks(process.pid, true) + pids.reduce((a, p) => a + procTicks(p, false), 0) + extraMs() / 10 }; };
  const a = snap();
  return () => { const b = snap(); const t = b.total - a.total; return t > 0 ? Math.round(Math.max(0, (b.busy - a.busy - (b.own - a.own)) / t) * 100) / 100 : 0; };
}
