// 6. Memory: idle RSS after start and peak RSS (VmHWM) during end to end. Reuses
// the e2e scenario's server when it ran in this rep; otherwise runs its own.
// (Every server's idle/peak is also listed in the JSON, under `servers`.)
import { warmUp, measureE2E } from '../lib/steps.mjs';

export default async function memory(ctx) {
  let idle = ctx.value('e2e.idle_rss_mib'), peak = ctx.value('e2e.peak_rss_mib');
  if (idle == null || peak == null) {
    const srv = await ctx.server('memory');
    try { await warmUp(ctx, srv); await measureE2E(ctx, srv, { mode: 'single' }); } finally { await ctx.stopServer(srv); }
    idle = srv.idleRssMiB; peak = srv.peakRss;
  }
  ctx.metric('memory.idle_rss_mib', 'server RSS idle, 1 s after /healthz answers', idle, 'MiB');
  ctx.metric('memory.peak_rss_mib', 'server peak RSS (VmHWM) during end to end', peak, 'MiB');
}
