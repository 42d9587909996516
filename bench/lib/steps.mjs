// The measuring steps the scenarios are made of: warm-up, create, end to end,
// open-loop latency, seeding. Each takes the run context (see run.mjs) and a
// started server, and returns plain numbers; scenarios decide what to record.
import { now, percentiles, round } from './common.mjs';
import { aqControl } from './control.mjs';

/** Server CPU µs per task, from /proc tick counts. */
const cpuPer = (ms, n) => (n ? round((ms * 1000) / n) : null);

/** The database's CPU µs per task since `start()` (PostgreSQL started by the bench), else null. */
const dbCpu = (srv) => {
  const a = srv.dbCpuMs?.();
  return (n) => { const b = srv.dbCpuMs?.(); return a == null || b == null ? null : cpuPer(b - a, n); };
};

/** 500 tasks (opts.warmup) created and delivered, not measured: JIT and connections warm. */
export async function warmUp(ctx, srv, queue = 'warm') {
  const n = ctx.opts.warmup;
  const run = `warm-${srv.name}-${ctx.rep}`;
  await ctx.target.reset(run, n);
  const c = await ctx.load('single', ['--origin', srv.origin, '--n', n, '--c', 32, '--run', run, '--target', ctx.target.url, '--queue', queue]);
  if (c.fail) throw new Error(`warm-up: ${c.fail} creates failed: ${c.firstErr}`);
  const s = await ctx.target.waitArrivals(n, { timeoutS: 60, stallS: 30 });
  if (!s.complete) throw new Error(`warm-up: only ${s.count}/${n} tasks reached the target`);
}

/**
 * Create throughput with dispatch out of the way: the queue is paused (or, if
 * the server refuses, the tasks are delayed a day). Single calls at c32, then
 * batches of each size in opts.batchSizes.
 */
export async function measureCreate(ctx, srv, { queue = 'bench-create', batchSizes = [100, 1000] } = {}) {
  const aq = aqControl(srv.origin);
  let hold = [];
  try { await aq.pauseQueue(queue); } catch (e) { ctx.note(`pause ${queue} failed (${e.message}); creating with delay instead`); hold = ['--delay', 86400]; }
  const base = ['--origin', srv.origin, '--target', ctx.target.url, '--queue', queue, ...hold];
  const w = await ctx.load('single', [...base, '--n', 1000, '--c', 32, '--run', 'warm-create']);
  if (w.fail) throw new Error(`create warm-up failed: ${w.firstErr}`);
  const out = {};
  let cpu0 = srv.cpuMs();
  let db = dbCpu(srv);
  const s = await ctx.load('single', [...base, '--n', ctx.opts.n, '--c', 32, '--run', `create-${ctx.rep}`]);
  if (s.fail) ctx.note(`create single: ${s.fail} failed: ${s.firstErr}`);
  out.single = { tps: s.tps, p50: s.latency_ms?.p50, p99: s.latency_ms?.p99, max: s.latency_ms?.max, failed: s.fail, cpu_us: cpuPer(srv.cpuMs() - cpu0, s.ok), db_cpu_us: db(s.ok), mem_after: srv.mem() };
  for (const b of batchSizes) {
    cpu0 = srv.cpuMs();
    db = dbCpu(srv);
    const r = await ctx.load('batch', [...base, '--n', ctx.opts.batchN, '--c', ctx.opts.batchC, '--b', b, '--run', `create-b${b}-${ctx.rep}`]);
    if (r.fail) ctx.note(`create batch ${b}: ${r.fail} failed: ${r.firstErr}`);
    out[`batch${b}`] = { tps: r.fail ? null : r.tps, failed: r.fail, cpu_us: cpuPer(srv.cpuMs() - cpu0, r.ok), db_cpu_us: db(r.ok), mem_after: srv.mem() };
  }
  return out;
}

/**
 * End to end: n tasks created as fast as the mode allows (single c32, or
 * batches of 100 at batchC), the dispatcher running meanwhile. Ends when the
 * n-th distinct seq has reached the target and the list API shows nothing of
 * the queue pending or running. tps = n / (that moment − first create call).
 */
export async function measureE2E(ctx, srv, { mode = 'single', n = ctx.opts.n, queue = `e2e-${mode}` } = {}) {
  const aq = aqControl(srv.origin);
  const run = `${queue}-${srv.name}-${ctx.rep}`;
  await ctx.target.reset(run, n);
  const args = ['--origin', srv.origin, '--n', n, '--run', run, '--target', ctx.target.url, '--queue', queue];
  if (mode === 'single') args.push('--c', 32); else args.push('--c', ctx.opts.batchC, '--b', 100);
  let want = n;
  const cpu0 = srv.cpuMs();
  const db = dbCpu(srv);
  const loadP = ctx.load(mode, args).then((c) => { want = c.ok; return c; });
  const s = await ctx.target.waitArrivals(() => want, { timeoutS: Math.max(120, n / 200), stallS: 60, everyMs: 20 });
  const c = await loadP;
  const doneAt = s.complete ? await aq.waitIdle(queue, { timeoutS: 120, everyMs: 10 }) : null;
  const cpu_us = cpuPer(srv.cpuMs() - cpu0, c.ok);
  const db_cpu_us = db(c.ok);
  let completed = null;
  try { completed = await aq.count(queue, 'completed'); } catch {}
  const r = {
    n, created: c.ok, create_failed: c.fail, create_tps: c.tps, create_p99: c.latency_ms?.p99 ?? null,
    arrived: s.count, duplicates: s.dup, complete: s.complete && doneAt != null, completed,
    arrival_tps: s.complete ? round((s.count / (s.lastAt - c.t0)) * 1000) : null,
    tps: doneAt != null ? round((c.ok / (doneAt - c.t0)) * 1000) : null,
    ms: doneAt != null ? round(doneAt - c.t0) : null, cpu_us, db_cpu_us, mem_after: srv.mem(),
  };
  if (c.fail) ctx.note(`e2e ${mode}: ${c.fail} creates failed: ${c.firstErr}`);
  if (!r.complete) ctx.note(`e2e ${mode}: incomplete: ${s.count}/${want} arrived${doneAt == null && s.complete ? ', queue not idle after 120 s' : ''}`);
  return r;
}

/** Open loop at `rate` tasks/s for durationS; create-call return → arrival at the target, ms. */
export async function measureLatency(ctx, srv, { rate, durationS = ctx.opts.duration, queue = `lat-${rate}` }) {
  const run = `${queue}-${srv.name}-${ctx.rep}`;
  const n = Math.round(rate * durationS);
  await ctx.target.reset(run, n);
  const c = await ctx.load('rate', ['--origin', srv.origin, '--rate', rate, '--duration', durationS, '--run', run, '--target', ctx.target.url, '--queue', queue]);
  const s = await ctx.target.waitArrivals(c.ok, { timeoutS: 120, stallS: 30, everyMs: 100 });
  const { arrivals } = await ctx.target.arrivals();
  const fromReturn = [];
  for (const [seq, at] of arrivals) if (c.returns[seq] != null) fromReturn.push(at - c.returns[seq]);
  if (c.fail) ctx.note(`latency ${rate}/s: ${c.fail} creates failed: ${c.firstErr}`);
  return { rate, offered: n, created: c.ok, failed: c.fail, late_sends: c.late_sends, max_inflight: c.max_inflight, arrived: s.count, complete: s.complete, ms: percentiles(fromReturn) };
}

/**
 * Fills the table through the API: `terminal` tasks created a week ahead in
 * chunks of 50,000, each chunk bulk-cancelled at once (`{"queue", "status":
 * "pending"}`) so they end `cancelled`; then `delayed` tasks a week ahead (below
 * setTimeout's 24.8-day limit). With opts.seedLabels each task carries one label
 * (deleting labelled tasks has its own cost; see docs/bench.md).
 */
export async function seed(ctx, srv, { terminal = 0, delayed = 0 }) {
  const aq = aqControl(srv.origin);
  const chunk = 50000, t0 = now();
  const out = { create_ms: 0, cancel_ms: 0 };
  const base = ['--origin', srv.origin, '--target', ctx.target.url, '--b', 1000, '--c', 4, '--delay', ctx.opts.seedDelay];
  if (ctx.opts.seedLabels) base.push('--labels', 'seed');
  let cancelled = 0;
  for (let done = 0; done < terminal; done += chunk) {
    const k = Math.min(chunk, terminal - done);
    const r = await ctx.load('seed', [...base, '--n', k, '--queue', 'seed-terminal'], 3600);
    if (r.fail) throw new Error(`seeding terminal: ${r.fail} failed: ${r.firstErr}`);
    out.create_ms += r.ms;
    const tc = now();
    cancelled += (await aq.cancel({ queue: 'seed-terminal', status: 'pending' })).count;
    out.cancel_ms += now() - tc;
  }
  if (cancelled !== terminal) throw new Error(`seeding: bulk cancel counted ${cancelled}, expected ${terminal}`);
  if (terminal) Object.assign(out, { create_tps: round((terminal / out.create_ms) * 1000), cancel_tps: round((terminal / out.cancel_ms) * 1000) });
  if (delayed) {
    const r = await ctx.load('seed', [...base, '--n', delayed, '--queue', 'seed-delayed'], 3600);
    if (r.fail) throw new Error(`seeding delayed: ${r.fail} failed: ${r.firstErr}`);
  }
  out.create_ms = round(out.create_ms); out.cancel_ms = round(out.cancel_ms);
  out.seconds = round((now() - t0) / 1000, 1);
  return out;
}
