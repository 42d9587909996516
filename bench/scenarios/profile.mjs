// Not in the default set (--only profile): where the server's CPU goes. Two
// servers run under `node --cpu-prof`: one takes N single creates (queue
// paused), one runs end to end with 2·N tasks. Prints self time per function
// and per area; the .cpuprofile files stay in bench/results/. Profiling slows
// the server, so these throughputs are not comparable with create/e2e.
import fs from 'node:fs';
import path from 'node:path';
import { warmUp, measureCreate, measureE2E } from '../lib/steps.mjs';
import { summarize, formatSummary } from '../lib/profile.mjs';

async function profiled(ctx, name, work) {
  const dir = path.join(ctx.resultsDir, `profile-${ctx.stamp}-${ctx.rep}-${name}`);
  fs.mkdirSync(dir, { recursive: true });
  const srv = await ctx.server(`profile-${name}`, { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
  let r;
  try { r = await work(srv); } finally { await ctx.stopServer(srv); }
  const file = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f))[0];
  if (!file) { ctx.note(`profile ${name}: no .cpuprofile written (did the server exit cleanly on SIGTERM?)`); return r; }
  const s = summarize(JSON.parse(fs.readFileSync(file, 'utf8')), 40);
  ctx.detail(`profile.${name}`, { file: path.relative(ctx.benchDir, file), ...s });
  ctx.log(`profile of ${name} written to ${file}\n${formatSummary(s)}`);
  return r;
}

export default async function profile(ctx) {
  const c = await profiled(ctx, 'create', (srv) => measureCreate(ctx, srv, { batchSizes: [] }));
  ctx.metric('profile.create.tps', `create 1/call c32 under --cpu-prof (${ctx.opts.n} tasks)`, c.single.tps, 'tasks/s');
  const e = await profiled(ctx, 'e2e', async (srv) => { await warmUp(ctx, srv); return measureE2E(ctx, srv, { mode: 'single', n: ctx.opts.n * 2 }); });
  ctx.metric('profile.e2e.tps', `end to end under --cpu-prof (${ctx.opts.n * 2} tasks)`, e.tps, 'tasks/s');
}
