// Starting and stopping bench processes. Every process started here is tracked
// by PID and stopped by PID (SIGTERM, then SIGKILL after a grace period); the
// orchestrator calls stopAll() on exit and on SIGINT/SIGTERM.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { sleep } from './common.mjs';

const started = new Map(); // pid → child

/**
 * Spawns cmd. stderr goes to opts.log; stdout lines are kept in memory, or with
 * opts.stdoutToLog go straight to opts.log (no back-pressure from this process).
 */
export function startProc(role, cmd, args, opts = {}) {
  const logFd = opts.log ? fs.openSync(opts.log, 'a') : 'ignore';
  const out = opts.stdoutToLog && typeof logFd === 'number' ? logFd : 'pipe';
  const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...(opts.env || {}) }, stdio: ['ignore', out, logFd] });
  if (typeof logFd === 'number') fs.closeSync(logFd);
  started.set(child.pid, child);
  child.on('exit', () => started.delete(child.pid));
  let buf = '';
  const lines = [];
  const waiters = new Set();
  child.stdout?.on('data', (d) => {
    buf += d.toString();
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i); buf = buf.slice(i + 1);
      if (lines.length < 200000) lines.push(line);
      for (const w of waiters) w();
    }
  });
  return {
    role, pid: child.pid, child, lines,
    exited: new Promise((r) => child.on('exit', (code, signal) => r({ code, signal }))),
    /** Resolves with the first stdout line parsed as JSON for which pred(obj) holds. */
    async waitLine(pred, timeoutMs = 30000) {
      const end = Date.now() + timeoutMs;
      for (let seen = 0; ;) {
        for (; seen < lines.length; seen++) { try { const o = JSON.parse(lines[seen]); if (o && pred(o)) return o; } catch {} }
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${role} exited (${child.exitCode ?? child.signalCode}) before ready; see ${opts.log || 'its stderr'}`);
        if (Date.now() > end) throw new Error(`${role} not ready in ${timeoutMs} ms`);
        await new Promise((r) => { const w = () => { waiters.delete(w); r(); }; waiters.add(w); setTimeout(w, 200); });
      }
    },
    stop: (graceMs) => stopPid(child.pid, graceMs),
  };
}

/** SIGTERM, wait up to graceMs for exit, then SIGKILL. Only for PIDs started here. */
export async function stopPid(pid, graceMs = 10000) {
  const child = started.get(pid);
  if (!child) return;
  const done = () => child.exitCode !== null || child.signalCode !== null;
  try { process.kill(pid, 'SIGTERM'); } catch {}
  const end = Date.now() + graceMs;
  while (!done() && Date.now() < end) await sleep(25);
  if (!done()) {
    try { process.kill(pid, 'SIGKILL'); } catch {}
    await new Promise((r) => { child.once('exit', r); setTimeout(r, 3000); });
  }
  started.delete(pid);
}

export async function stopAll() {
  for (const pid of [...started.keys()]) await stopPid(pid, 3000);
}

/**
 * Runs `node script args…` as a separate process and resolves with its last
 * stdout line parsed as JSON. Killed (SIGKILL, by PID) after timeoutS seconds.
 */
export function runNode(script, args, timeoutS, opts = {}) {
  return new Promise((resolve, reject) => {
    const p = startProc(opts.role || 'load', process.execPath, [script, ...args], { log: opts.log, cwd: opts.cwd });
    const t = setTimeout(() => { stopPid(p.pid, 1000); }, timeoutS * 1000);
    p.exited.then(({ code, signal }) => {
      clearTimeout(t);
      const last = p.lines.filter((l) => l.startsWith('{')).pop();
      try { resolve(JSON.parse(last)); } catch { reject(new Error(`${script} exited ${code ?? signal} without a result${opts.log ? `; see ${opts.log}` : ''}`)); }
    });
  });
}
