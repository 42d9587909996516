// Targets from issue #6, medians over runs, the printed table and the JSON file.
import { median, round } from './common.mjs';

/** Each target: metric id, on its value or its ratio, op, limit, text. */
export const TARGETS = [
  { id: 'e2e.single.tps', op: '>=', limit: 8000, text: '≥ 8,000/s' },
  { id: 'e2e.single.tps', ratio: true, op: '>=', limit: 0.45, text: '≥ 45% of ceiling' },
  { id: 'e2e.batch100.tps', op: '>=', limit: 8000, text: '≥ 8,000/s' },
  { id: 'e2e.batch100.tps', ratio: true, op: '>=', limit: 0.45, text: '≥ 45% of ceiling' },
  { id: 'create.single.default.tps', ratio: true, op: '>=', limit: 0.7, text: '≥ 70% of Hono' },
  { id: 'create.single.default.p99_ms', op: '<=', limit: 10, text: '≤ 10 ms' },
  { id: 'create.single.normal.tps', ratio: true, op: '>=', limit: 0.7, text: '≥ 70% of Hono' },
  { id: 'create.single.normal.p99_ms', op: '<=', limit: 10, text: '≤ 10 ms' },
  { id: 'create.batch1000.default.tps', op: '>=', limit: 120000, text: '≥ 120,000/s' },
  { id: 'create.batch1000.normal.tps', op: '>=', limit: 120000, text: '≥ 120,000/s' },
  { id: 'latency.200.p50_ms', op: '<=', limit: 1.5, text: '≤ 1.5 ms' },
  { id: 'latency.200.p99_ms', op: '<=', limit: 8, text: '≤ 8 ms' },
  { id: 'latency.1000.p99_ms', op: '<=', limit: 15, text: '≤ 15 ms' },
  { id: 'scale.full.create.single.tps', ratio: true, op: '>=', limit: 0.9, text: '≥ 90% of empty' },
  { id: 'scale.full.create.batch1000.tps', ratio: true, op: '>=', limit: 0.9, text: '≥ 90% of empty' },
  { id: 'scale.full.e2e.tps', ratio: true, op: '>=', limit: 0.9, text: '≥ 90% of empty' },
  { id: 'memory.peak_rss_mib', op: '<=', limit: 128, text: '≤ 128 MiB' },
  { id: 'memory.idle_rss_mib', op: '<=', limit: 70, text: '≤ 70 MiB' },
];

const REF_NAMES = {
  'ceiling.direct.rps': 'undici→target', 'ceiling.hono_c32.rps': 'Hono route', 'ceiling.hono_c32.cpu_us': 'Hono route CPU',
};
const refName = (vs) => REF_NAMES[vs] || (vs.startsWith('scale.empty') ? 'empty table' : vs.startsWith('retention.base') ? 'no purge' : vs);

/** Per rep: {id: {label, unit, value, vs, ratio}}; ratios against the same rep's reference. */
export function withRatios(metrics) {
  for (const m of Object.values(metrics)) {
    const ref = m.vs ? metrics[m.vs]?.value : null;
    m.ratio = m.value != null && ref ? round(m.value / ref, 3) : null;
  }
  return metrics;
}

/** Medians over reps of value and ratio, with target verdicts. Keeps first-seen order. */
export function summarize(reps) {
  const ids = [];
  for (const r of reps) for (const id of Object.keys(r.metrics)) if (!ids.includes(id)) ids.push(id);
  return ids.map((id) => {
    const ms = reps.map((r) => r.metrics[id]).filter(Boolean);
    const first = ms[0];
    const value = median(ms.map((m) => m.value));
    const ratio = median(ms.map((m) => m.ratio));
    const targets = TARGETS.filter((t) => t.id === id).map((t) => {
      const v = t.ratio ? ratio : value;
      const pass = v == null ? null : t.op === '>=' ? v >= t.limit : v <= t.limit;
      return { text: t.text, pass };
    });
    return { id, label: first.label, unit: first.unit, vs: first.vs || null, value: value == null ? null : round(value, value < 100 ? 2 : 0), ratio: ratio == null ? null : round(ratio, 3), runs: ms.length, values: ms.map((m) => m.value), targets };
  });
}

const fmtNum = (x) => (x == null ? '—' : Math.abs(x) >= 1000 ? Math.round(x).toLocaleString('en-US') : String(x));

/** Markdown table of the summary rows. */
export function table(rows) {
  const L = ['| figure | value | ratio | target | |', '|---|---:|---|---|---|'];
  for (const r of rows) {
    const ratio = r.ratio == null ? '' : r.ratio >= 2 ? `${r.ratio.toFixed(1)}× ${refName(r.vs)}` : `${Math.round(r.ratio * 100)}% of ${refName(r.vs)}`;
    const tgt = r.targets.map((t) => t.text).join('; ');
    const verdict = r.targets.map((t) => (t.pass == null ? '?' : t.pass ? 'PASS' : 'FAIL')).join(' / ');
    L.push(`| ${r.label} | ${fmtNum(r.value)} ${r.unit} | ${ratio} | ${tgt} | ${verdict} |`);
  }
  return L.join('\n');
}

/** Per-server memory list (idle and peak RSS of every server started). */
export function serverTable(reps) {
  const L = ['| rep | server | started in | idle RSS | peak RSS (VmHWM) | exit |', '|---|---|---:|---:|---:|---|'];
  for (const r of reps) for (const s of r.servers) L.push(`| ${r.rep} | ${s.name} | ${s.startMs} ms | ${s.idleRssMiB} MiB | ${s.peakRssMiB} MiB | ${s.exit} |`);
  return L.join('\n');
}
