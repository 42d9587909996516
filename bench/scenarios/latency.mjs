// 4. Latency, open loop: 200 and 1,000 tasks/s offered for D seconds (single
// creates); create-call return → arrival at the target, p50/p95/p99/max.
import { warmUp, measureLatency } from '../lib/steps.mjs';

export default async function latency(ctx) {
  const srv = await ctx.server('latency');
  try {
    await warmUp(ctx, srv);
    for (const rate of ctx.opts.rates) {
      const r = await measureLatency(ctx, srv, { rate });
      ctx.detail(`latency.${rate}`, r);
      if (!r.ms) { ctx.note(`latency ${rate}/s: no arrivals`); continue; }
      for (const p of ['p50', 'p95', 'p99', 'max']) ctx.metric(`latency.${rate}.${p}_ms`, `create return → target, ${rate}/s open loop, ${p}`, r.ms[p], 'ms');
      if (!r.complete) ctx.note(`latency ${rate}/s: only ${r.arrived}/${r.created} arrived`);
      if (r.late_sends) ctx.note(`latency ${rate}/s: ${r.late_sends} sends more than 5 ms late (load generator starved)`);
    }
  } finally { await ctx.stopServer(srv); }
}
