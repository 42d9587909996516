// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per
// area (package, dist/ folder, node internals, GC). Also a CLI:
//   node bench/lib/profile.mjs FILE.cpuprofile [top=30]
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

function area(url, name) {
  if (!url) return name.startsWith('(') ? name : '(native)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  const d = /\/dist\/(.*\/)?[^/]+$/.exec(url);
  if (d) return `dist/${d[1] || ''}`;
  if (url.startsWith('node:internal/')) { const p = url.slice(14).split('/'); return `node:internal/${p[0] === 'deps' || p[0] === 'modules' ? p.slice(0, 2).join('/') : p[0]}`; }
  if (url.startsWith('node:')) return 'node:' + url.slice(5).split('/')[0];
  return url.replace(/^file:\/\//, '').split('/').slice(-2).join('/');
}

const frameKey = (c) => {
  const file = c.url ? c.url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules|dist)\//, '$1/') : '';
  return { key: `${c.functionName || '(anonymous)'} ${file}:${c.lineNumber + 1}`, name: c.functionName || '(anonymous)', where: file ? `${file}:${c.lineNumber + 1}` : '' };
};

/**
 * {total_ms, idle_ms, functions: [{name, where, self_ms, pct}], inclusive: [{name, where, total_ms, pct}],
 * areas: [{area, self_ms, pct}]}; inclusive time counts a function once per stack (recursion-safe).
 */
export function summarize(profile, top = 30) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const { samples, timeDeltas } = profile;
  for (let i = 0; i < samples.length; i++) self.set(samples[i], (self.get(samples[i]) || 0) + (timeDeltas[i] || 0) / 1000);
  const fn = new Map(), inc = new Map(), ar = new Map();
  let total = 0, idle = 0;
  const walk = (node, stack) => {
    const f = frameKey(node.callFrame);
    const ms = self.get(node.id) || 0;
    const isIdle = f.name === '(idle)';
    if (isIdle) idle += ms;
    else if (ms) {
      total += ms;
      const e = fn.get(f.key) || { name: f.name, where: f.where, self_ms: 0 };
      e.self_ms += ms; fn.set(f.key, e);
      const a = area(node.callFrame.url, f.name);
      ar.set(a, (ar.get(a) || 0) + ms);
    }
    const here = stack.has(f.key) ? stack : new Map(stack).set(f.key, f);
    if (ms && !isIdle) for (const [k, g] of here) { const e = inc.get(k) || { name: g.name, where: g.where, total_ms: 0 }; e.total_ms += ms; inc.set(k, e); }
    for (const c of node.children || []) walk(byId.get(c), here);
  };
  walk(profile.nodes[0], new Map());
  const pct = (ms) => Math.round((ms / total) * 1000) / 10;
  const r = (ms) => Math.round(ms);
  return {
    total_ms: r(total), idle_ms: r(idle),
    functions: [...fn.values()].sort((x, y) => y.self_ms - x.self_ms).slice(0, top).map((f) => ({ ...f, self_ms: r(f.self_ms), pct: pct(f.self_ms) })),
    inclusive: [...inc.values()].filter((f) => !f.name.startsWith('(root')).sort((x, y) => y.total_ms - x.total_ms).slice(0, top).map((f) => ({ ...f, total_ms: r(f.total_ms), pct: pct(f.total_ms) })),
    areas: [...ar.entries()].sort((x, y) => y[1] - x[1]).slice(0, top).map(([a, ms]) => ({ area: a, self_ms: r(ms), pct: pct(ms) })),
  };
}

export function formatSummary(s) {
  const L = [`busy ${s.total_ms} ms, idle ${s.idle_ms} ms`, '', '| self % | self ms | function | where |', '|---:|---:|---|---|'];
  for (const f of s.functions) L.push(`| ${f.pct} | ${f.self_ms} | ${f.name} | ${f.where} |`);
  L.push('', '| total % | total ms | function (inclusive) | where |', '|---:|---:|---|---|');
  for (const f of s.inclusive) L.push(`| ${f.pct} | ${f.total_ms} | ${f.name} | ${f.where} |`);
  L.push('', '| self % | self ms | area |', '|---:|---:|---|');
  for (const a of s.areas) L.push(`| ${a.pct} | ${a.self_ms} | ${a.area} |`);
  return L.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s = summarize(JSON.parse(fs.readFileSync(process.argv[2], 'utf8')), Number(process.argv[3] || 30));
  console.log(formatSummary(s));
}
