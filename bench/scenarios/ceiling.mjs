// 1. Ceilings of this machine in this run: undici Pool → the trivial target
// (c32, c128) and → a trivial Hono route (c32, task-shaped body). Every other
// figure is also reported as a ratio of one of these.
import path from 'node:path';
import { startProc } from '../lib/procs.mjs';
import { cpuMs } from '../lib/quiet.mjs';

export default async function ceiling(ctx) {
  const n = ctx.opts.n;
  const d32 = await ctx.load('ceiling', ['--url', ctx.target.url, '--n', n, '--c', 32]);
  const d128 = await ctx.load('ceiling', ['--url', ctx.target.url, '--n', n, '--c', 128]);
  const hono = startProc('hono', process.execPath, [path.join(ctx.libDir, 'hono-server.mjs')], { env: { PORT: '0' }, log: path.join(ctx.tmp, 'hono.log') });
  let h;
  try {
    const { listening } = await hono.waitLine((o) => 'listening' in o);
    const cpu0 = cpuMs(hono.pid);
    h = await ctx.load('ceiling', ['--url', `http://127.0.0.1:${listening}/v1/tasks`, '--n', n, '--c', 32, '--body', 'task']);
    h.cpu_us = Math.round(((cpuMs(hono.pid) - cpu0) * 1000) / (h.ok + 500)); // + the 500 warm-up requests
  } finally { await hono.stop(); }
  for (const r of [d32, d128, h]) if (r.fail) ctx.note(`ceiling: ${r.fail} requests failed: ${r.firstErr}`);
  ctx.metric('ceiling.direct_c32.rps', 'undici → target, c32', d32.rps, 'req/s');
  ctx.metric('ceiling.direct_c128.rps', 'undici → target, c128', d128.rps, 'req/s');
  ctx.metric('ceiling.direct.rps', 'undici → target, best of c32/c128', Math.max(d32.rps, d128.rps), 'req/s');
  ctx.metric('ceiling.hono_c32.rps', 'undici → trivial Hono route, c32', h.rps, 'req/s');
  ctx.metric('ceiling.hono_c32.cpu_us', 'trivial Hono route: server CPU per request', h.cpu_us, 'µs');
}
