// Resident memory of one process from /proc (Linux): VmRSS now, VmHWM (the
// kernel's own peak) sampled so the last value before exit is kept.
import fs from 'node:fs';

/** {rss, hwm} in MiB for pid, or null when the process is gone. */
export function readMem(pid) {
  try {
    const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(s)?.[1] ?? NaN);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch { return null; }
}

/** Samples readMem(pid) every intervalMs; peak() is the highest VmHWM seen. */
export class MemSampler {
  constructor(pid, intervalMs = 200) { this.pid = pid; this.intervalMs = intervalMs; this.hwm = 0; this.rssMax = 0; }
  sample() {
    const m = readMem(this.pid);
    if (m) { this.hwm = Math.max(this.hwm, m.hwm || 0); this.rssMax = Math.max(this.rssMax, m.rss || 0); }
    return m;
  }
  start() { this.sample(); this.timer = setInterval(() => this.sample(), this.intervalMs); this.timer.unref(); return this; }
  stop() { this.sample(); clearInterval(this.timer); }
  peak() { this.sample(); return Math.round(this.hwm * 10) / 10; }
}
