// 7. Retention: the table holds R cancelled tasks; the server restarts with a
// short retention (--retention 1s by default) so they all expire at once, and
// end to end + open-loop latency run while the purge works in the background.
// Compared with the same measurements on the same file without purge.
import fs from 'node:fs';
import { now, sleep, round } from '../lib/common.mjs';
import { aqControl } from '../lib/control.mjs';
import { warmUp, measureE2E, measureLatency, seed } from '../lib/steps.mjs';

async function measure(ctx, srv) {
  await warmUp(ctx, srv);
  const e2e = await measureE2E(ctx, srv, { mode: 'single' });
  const lat = await measureLatency(ctx, srv, { rate: ctx.opts.retentionRate });
  return { e2e, lat };
}

/**
 * Seconds from the server's "listening" log line until its "purged expired tasks"
 * lines add up to `rows` (the purge logs one line per sweep), or null.
 */
function purgeSecondsFromLog(file, rows) {
  let start = null, sum = 0;
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    let o; try { o = JSON.parse(line); } catch { continue; }
    if (o.msg === 'listening' && start == null) start = Date.parse(o.time);
    if (o.msg === 'purged expired tasks' && start != null) { sum += o.count || 0; if (sum >= rows) return (Date.parse(o.time) - start) / 1000; }
  }
  return null;
}

export default async function retention(ctx) {
  const R = ctx.opts.retentionRows, rate = ctx.opts.retentionRate;
  const seeder = await ctx.server('retention-seed');
  try { await seed(ctx, seeder, { terminal: R }); } finally { await ctx.stopServer(seeder); }
  const db = seeder.db;

  const base = await ctx.server('retention-base', { db });
  let b;
  try { b = await measure(ctx, base); } finally { await ctx.stopServer(base); }

  const purging = await ctx.server('retention-purge', { db, args: ctx.opts.retentionArgs, idleSettleMs: 0 });
  const aq = aqControl(purging.origin);
  const t0 = now();
  let p, left, leftAfter, purgeS = null;
  try {
    p = await measure(ctx, purging);
    leftAfter = await aq.count('seed-terminal', 'cancelled');
    const end = Date.now() + ctx.opts.purgeTimeoutS * 1000;
    for (left = leftAfter; left && Date.now() < end; left = await aq.count('seed-terminal', 'cancelled')) await sleep(1000);
    if (left === 0) purgeS = (now() - t0) / 1000;
  } finally { await ctx.stopServer(purging); }
  const fromLog = purgeSecondsFromLog(purging.log, R);
  if (fromLog != null) purgeS = fromLog;
  else if (leftAfter === 0) ctx.note('retention: purge ended during the measurements and the server did not log it; purge time is an upper bound');
  if (left == null) ctx.note('retention: could not read the seed queue counts from GET /v1/queues');
  else if (left) ctx.note(`retention: ${left} of ${R} expired tasks still present after ${ctx.opts.purgeTimeoutS} s`);

  ctx.metric('retention.purge_s', `purge of ${R} expired tasks, from "listening" to the last "purged" log line`, purgeS == null ? null : round(purgeS, 1), 's');
  ctx.metric('retention.purge_rate', 'purge rate', purgeS ? round(R / purgeS) : null, 'tasks/s');
  ctx.metric('retention.purged_during_measure', 'purged while e2e + latency ran', leftAfter == null ? null : R - leftAfter, 'tasks');
  ctx.metric('retention.base.e2e.tps', `end to end, ${R} expired rows, no purge`, b.e2e.tps, 'tasks/s');
  ctx.metric('retention.purge.e2e.tps', 'end to end while purging', p.e2e.tps, 'tasks/s', { vs: 'retention.base.e2e.tps' });
  ctx.metric('retention.base.create_p99_ms', 'create p99 during e2e, no purge', b.e2e.create_p99, 'ms');
  ctx.metric('retention.purge.create_p99_ms', 'create p99 during e2e while purging', p.e2e.create_p99, 'ms', { vs: 'retention.base.create_p99_ms' });
  for (const [k, r] of [['base', b.lat], ['purge', p.lat]]) {
    if (!r.ms) continue;
    const text = k === 'base' ? 'no purge' : 'while purging';
    ctx.metric(`retention.${k}.latency.p50_ms`, `create return → target ${rate}/s p50, ${text}`, r.ms.p50, 'ms', k === 'purge' ? { vs: 'retention.base.latency.p50_ms' } : {});
    ctx.metric(`retention.${k}.latency.p99_ms`, `create return → target ${rate}/s p99, ${text}`, r.ms.p99, 'ms', k === 'purge' ? { vs: 'retention.base.latency.p99_ms' } : {});
  }
  ctx.metric('retention.purge.peak_rss_mib', 'server peak RSS while purging', purging.peakRss, 'MiB');
  ctx.detail('retention', { base: b, purge: p, left_after_measure: leftAfter });
}
