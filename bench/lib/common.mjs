// Small helpers shared by every bench process. Clock: process.hrtime is
// CLOCK_MONOTONIC on Linux, system-wide, so a stamp taken in one process
// compares with a stamp taken in another.
import net from 'node:net';

/** Monotonic milliseconds (float), comparable across processes on Linux. */
export const now = () => Number(process.hrtime.bigint()) / 1e6;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free TCP port on 127.0.0.1 (racy by nature; good enough on a quiet machine). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** {n, p50, p95, p99, max} in the unit of the values (nearest-rank), or null when empty. */
export function percentiles(values) {
  const a = Float64Array.from(values).sort();
  if (a.length === 0) return null;
  const q = (p) => a[Math.min(a.length - 1, Math.max(0, Math.ceil((p / 100) * a.length) - 1))];
  const r = (x) => Math.round(x * 100) / 100;
  return { n: a.length, p50: r(q(50)), p95: r(q(95)), p99: r(q(99)), max: r(a[a.length - 1]) };
}

/** Median of the finite numbers in xs, or null. */
export function median(xs) {
  const a = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((x, y) => x - y);
  if (!a.length) return null;
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}

/**
 * `--key value`, `--key=value` and bare `--flag` (→ 'true') over defaults. Keys in
 * `takesValue` always take the next word, even one starting with `--`.
 */
export function parseArgs(argv, defaults, takesValue = []) {
  const out = { ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    if (a.includes('=')) { const k = a.slice(2, a.indexOf('=')); out[k] = a.slice(a.indexOf('=') + 1); continue; }
    const next = argv[i + 1];
    const k = a.slice(2);
    out[k] = next === undefined || (next.startsWith('--') && !takesValue.includes(k)) ? 'true' : argv[++i];
  }
  return out;
}

export const round = (x, d = 0) => (x == null || !Number.isFinite(x) ? null : Math.round(x * 10 ** d) / 10 ** d);
