// --nodes N (PostgreSQL): end to end on N nodes sharing one database (api.md §9). The creates
// are split over the nodes (one load process per node, n/N tasks each, 1 per call at c32 and
// then 100 per call), every node dispatches; measured until the last task reached the target
// and the queue is idle. CPU: the nodes together, and the database's own processes. Compare with
// `e2e` (one node) of the same run: `npm run bench -- --store postgres --only e2e,nodes --nodes 2`.
import { aqControl } from '../lib/control.mjs';
import { warmUp } from '../lib/steps.mjs';

const round = (x) => Math.round(x);
const cpuPer = (ms, n) => (n ? round((ms * 1000) / n) : null);

async function run(ctx, nodes, mode) {
  const n = ctx.opts.n;
  const queue = `nodes-${mode}`;
  const name = `${queue}-${ctx.rep}`;
  await ctx.target.reset(name, n);
  const per = Math.floor(n / nodes.length);
  const cpu0 = nodes.map((s) => s.cpuMs());
  const db0 = nodes[0].dbCpuMs?.();
  const loads = nodes.map((s, i) => {
    const k = i === nodes.length - 1 ? n - per * (nodes.length - 1) : per;
    // each load process numbers its tasks from --first so the target sees n distinct sequence numbers
    const args = ['--origin', s.origin, '--n', k, '--first', per * i, '--run', name, '--target', ctx.target.url, '--queue', queue];
    if (mode === 'single') args.push('--c', 32); else args.push('--c', ctx.opts.batchC, '--b', 100);
    return ctx.load(mode, args);
  });
  let want = n;
  const all = Promise.all(loads).then((cs) => { want = cs.reduce((a, c) => a + c.ok, 0); return cs; });
  const s = await ctx.target.waitArrivals(() => want, { timeoutS: Math.max(120, n / 200), stallS: 60, everyMs: 20 });
  const cs = await all;
  const doneAt = s.complete ? await aqControl(nodes[0].origin).waitIdle(queue, { timeoutS: 120, everyMs: 10 }) : null;
  const ok = cs.reduce((a, c) => a + c.ok, 0);
  const t0 = Math.min(...cs.map((c) => c.t0));
  const db1 = nodes[0].dbCpuMs?.();
  return {
    nodes: nodes.length, n, created: ok, create_failed: cs.reduce((a, c) => a + c.fail, 0), arrived: s.count, duplicates: s.dup,
    complete: s.complete && doneAt != null, tps: doneAt != null ? round((ok / (doneAt - t0)) * 1000) : null,
    cpu_us: cpuPer(nodes.reduce((a, srv, i) => a + (srv.cpuMs() - cpu0[i]), 0), ok),
    db_cpu_us: db0 == null || db1 == null ? null : cpuPer(db1 - db0, ok),
  };
}

export default async function nodesScenario(ctx) {
  const count = ctx.opts.nodes;
  if (!ctx.pgUrl) return ctx.note('nodes: needs --store postgres');
  const nodes = await ctx.servers('nodes', count);
  let single, batch;
  try {
    for (const srv of nodes) await warmUp(ctx, srv, `warm-${srv.name}`);
    single = await run(ctx, nodes, 'single');
    batch = await run(ctx, nodes, 'batch');
  } finally {
    for (const srv of nodes) await ctx.stopServer(srv);
  }
  ctx.metric('nodes.single.tps', `end to end on ${count} nodes, created 1/call c32 per node (${ctx.opts.n} tasks)`, single.tps, 'tasks/s', { vs: 'e2e.single.tps' });
  ctx.metric('nodes.batch100.tps', `end to end on ${count} nodes, created 100/call`, batch.tps, 'tasks/s', { vs: 'e2e.batch100.tps' });
  ctx.metric('nodes.single.cpu_us', `end to end on ${count} nodes: the nodes' CPU per task`, single.cpu_us, 'µs');
  if (single.db_cpu_us != null) ctx.metric('nodes.single.db_cpu_us', `end to end on ${count} nodes: PostgreSQL CPU per task`, single.db_cpu_us, 'µs');
  ctx.metric('nodes.duplicates', `end to end on ${count} nodes: duplicate deliveries`, single.duplicates + batch.duplicates, 'tasks');
  ctx.detail('nodes', { single, batch });
  if (!single.complete || !batch.complete) ctx.note(`nodes: incomplete (single ${single.arrived}/${single.created}, batch ${batch.arrived}/${batch.created})`);
}
