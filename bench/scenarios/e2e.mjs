// 3. End to end: N tasks created as fast as possible (single calls at c32; then
// batches of 100), until the last has reached the target and its queue shows
// nothing pending or running. Also records the server's idle and peak RSS.
import { warmUp, measureE2E } from '../lib/steps.mjs';

export default async function e2e(ctx) {
  const srv = await ctx.server('e2e');
  let single, batch;
  try {
    await warmUp(ctx, srv);
    single = await measureE2E(ctx, srv, { mode: 'single' });
    batch = await measureE2E(ctx, srv, { mode: 'batch' });
  } finally { await ctx.stopServer(srv); }
  ctx.metric('e2e.single.tps', `end to end, created 1/call c32 (${ctx.opts.n} tasks)`, single.tps, 'tasks/s', { vs: 'ceiling.direct.rps' });
  ctx.metric('e2e.single.create_tps', 'end to end: create rate while dispatching', single.create_tps, 'tasks/s', { vs: 'ceiling.hono_c32.rps' });
  ctx.metric('e2e.single.create_p99_ms', 'end to end: create p99 while dispatching', single.create_p99, 'ms');
  ctx.metric('e2e.single.cpu_us', 'end to end: server CPU per task (create + dispatch + finish)', single.cpu_us, 'µs');
  if (single.db_cpu_us != null) ctx.metric('e2e.single.db_cpu_us', 'end to end: PostgreSQL CPU per task (all its processes)', single.db_cpu_us, 'µs');
  if (batch.db_cpu_us != null) ctx.metric('e2e.batch100.db_cpu_us', 'end to end, 100/call: PostgreSQL CPU per task', batch.db_cpu_us, 'µs');
  ctx.metric('e2e.batch100.tps', `end to end, created 100/call c${ctx.opts.batchC}`, batch.tps, 'tasks/s', { vs: 'ceiling.direct.rps' });
  ctx.metric('e2e.duplicates', 'end to end: duplicate deliveries', single.duplicates + batch.duplicates, 'tasks');
  ctx.metric('e2e.idle_rss_mib', 'server RSS idle after start (e2e server)', srv.idleRssMiB, 'MiB');
  ctx.metric('e2e.peak_rss_mib', 'server peak RSS (VmHWM) over warm-up + both e2e runs', srv.peakRss, 'MiB');
  ctx.detail('e2e', { single, batch });
}
