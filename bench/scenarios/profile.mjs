// Not in the default set (--only profile): runs end to end against a server
// started with `node --cpu-prof`, then prints where the server's time went
// (self time per function and per area). Profiling slows the server, so its
// throughput here is not comparable with e2e.
import fs from 'node:fs';
import path from 'node:path';
import { warmUp, measureE2E } from '../lib/steps.mjs';
import { summarize, formatSummary } from '../lib/profile.mjs';

export default async function profile(ctx) {
  const dir = path.join(ctx.resultsDir, `profile-${ctx.stamp}-${ctx.rep}`);
  fs.mkdirSync(dir, { recursive: true });
  const srv = await ctx.server('profile', { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', dir] });
  let r;
  try {
    await warmUp(ctx, srv);
    r = await measureE2E(ctx, srv, { mode: 'single', n: ctx.opts.n * 2 });
  } finally { await ctx.stopServer(srv); }
  const file = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile')).map((f) => path.join(dir, f))[0];
  ctx.metric('profile.e2e.tps', `end to end under --cpu-prof (${ctx.opts.n * 2} tasks; slower than unprofiled)`, r.tps, 'tasks/s');
  if (!file) { ctx.note('profile: no .cpuprofile written (did the server exit cleanly on SIGTERM?)'); return; }
  const s = summarize(JSON.parse(fs.readFileSync(file, 'utf8')), 30);
  ctx.detail('profile', { file: path.relative(ctx.benchDir, file), ...s });
  ctx.log(`profile written to ${file}\n${formatSummary(s)}`);
}
