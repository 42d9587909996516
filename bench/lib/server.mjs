// Process control for the AsyncQueue server under test:
//   node bin/asyncqueue.js serve --port P --db D [--durability normal] [extra…]
// started in the checkout (cwd), waited for on GET /healthz, sampled for memory,
// stopped by PID with SIGTERM (so --cpu-prof profiles get written).
import path from 'node:path';
import fs from 'node:fs';
import { freePort, sleep } from './common.mjs';
import { startProc } from './procs.mjs';
import { MemSampler, readMem } from './memory.mjs';
import { cpuMs } from './quiet.mjs';

/**
 * Starts one server. opts: {aqDir, dir (scratch dir), name, db?, durability?, args?: string[],
 * nodeArgs?: string[], idleSettleMs? (1000)}. Resolves with a handle:
 * {origin, port, pid, db, idleRssMiB, peakRssMiB(), cpuMs(), stop()}.
 */
export async function startServer(opts) {
  const port = await freePort();
  const db = opts.db || path.join(opts.dir, `${opts.name}.db`);
  const args = [...(opts.nodeArgs || []), 'bin/asyncqueue.js', 'serve', '--port', String(port), '--db', db];
  if (opts.durability && opts.durability !== 'default') args.push('--durability', opts.durability);
  args.push(...(opts.args || []));
  const log = path.join(opts.dir, `${opts.name}.log`);
  const proc = startProc(`server:${opts.name}`, process.execPath, args, { cwd: opts.aqDir, log, stdoutToLog: true });
  const origin = `http://127.0.0.1:${port}`;
  const sampler = new MemSampler(proc.pid, 200).start();
  const t0 = Date.now();
  try {
    for (;;) {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null) throw new Error(`server ${opts.name} exited (${proc.child.exitCode ?? proc.child.signalCode}); see ${log}: ${tail(log)}`);
      if (Date.now() - t0 > 60000) throw new Error(`server ${opts.name} did not answer /healthz in 60 s; see ${log}`);
      try { const r = await fetch(`${origin}/healthz`); await r.arrayBuffer(); if (r.status === 200) break; } catch {}
      await sleep(50);
    }
  } catch (e) { sampler.stop(); await proc.stop(); throw e; }
  const startMs = Date.now() - t0;
  await sleep(opts.idleSettleMs ?? 1000);
  const idle = readMem(proc.pid);
  return {
    name: opts.name, origin, port, pid: proc.pid, db, log, startMs, proc,
    idleRssMiB: idle ? Math.round(idle.rss * 10) / 10 : null,
    peakRssMiB: () => sampler.peak(),
    /** {rss, hwm} MiB now (hwm: the peak so far). */
    mem: () => { const m = readMem(proc.pid); return m && { rss: Math.round(m.rss), hwm: Math.round(m.hwm) }; },
    /** CPU (user + system) the server used so far, ms. */
    cpuMs: () => cpuMs(proc.pid),
    async stop() {
      const peak = sampler.peak();
      sampler.stop();
      await proc.stop(60000);
      return { peakRssMiB: peak, exit: proc.child.exitCode ?? proc.child.signalCode };
    },
  };
}

function tail(file) {
  try { return fs.readFileSync(file, 'utf8').slice(-800); } catch { return ''; }
}
