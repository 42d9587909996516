// 2. Create throughput: single POST /v1/tasks at c32 (tasks/s, p50/p99 per call)
// and POST /v1/tasks/batch with 100 and 1,000 tasks per call, for the default
// durability and for --durability normal. The queue is paused so dispatch does
// not share the CPU (end to end measures that case).
import { measureCreate } from '../lib/steps.mjs';

export default async function create(ctx) {
  for (const d of ['default', 'normal']) {
    const srv = await ctx.server(`create-${d}`, { durability: d });
    try {
      const r = await measureCreate(ctx, srv);
      const dl = d === 'default' ? 'default durability' : '--durability normal';
      ctx.metric(`create.single.${d}.tps`, `create 1/call c32, ${dl}`, r.single.tps, 'tasks/s', { vs: 'ceiling.hono_c32.rps' });
      ctx.metric(`create.single.${d}.p50_ms`, `create 1/call c32 p50, ${dl}`, r.single.p50, 'ms');
      ctx.metric(`create.single.${d}.p99_ms`, `create 1/call c32 p99, ${dl}`, r.single.p99, 'ms');
      ctx.metric(`create.single.${d}.cpu_us`, `server CPU per single create, ${dl}`, r.single.cpu_us, 'µs', { vs: 'ceiling.hono_c32.cpu_us' });
      ctx.metric(`create.batch100.${d}.tps`, `create 100/call c${ctx.opts.batchC}, ${dl}`, r.batch100.tps, 'tasks/s', { vs: 'ceiling.hono_c32.rps' });
      ctx.metric(`create.batch1000.${d}.tps`, `create 1000/call c${ctx.opts.batchC}, ${dl}`, r.batch1000.tps, 'tasks/s', { vs: 'ceiling.hono_c32.rps' });
      ctx.metric(`create.batch1000.${d}.cpu_us`, `server CPU per task, 1000/call, ${dl}`, r.batch1000.cpu_us, 'µs');
      if (r.single.db_cpu_us != null) ctx.metric(`create.single.${d}.db_cpu_us`, `PostgreSQL CPU per single create, ${dl}`, r.single.db_cpu_us, 'µs');
      if (r.batch1000.db_cpu_us != null) ctx.metric(`create.batch1000.${d}.db_cpu_us`, `PostgreSQL CPU per task, 1000/call, ${dl}`, r.batch1000.db_cpu_us, 'µs');
    } finally { await ctx.stopServer(srv); }
  }
}
