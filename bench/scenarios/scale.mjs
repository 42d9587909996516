// 5. Scale: create and end-to-end figures with the table already holding T
// terminal (cancelled) and D delayed tasks, beside the same procedure on an
// empty table in the same run. Seeded through the API (batch + bulk cancel),
// then the server is restarted on that file so both servers start cold.
import { warmUp, measureCreate, measureE2E, seed } from '../lib/steps.mjs';

const fmt = (n) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));

async function measure(ctx, key, text, db) {
  const srv = await ctx.server(`scale-${key}`, { db });
  let create, e2e;
  try {
    await warmUp(ctx, srv);
    create = await measureCreate(ctx, srv, { batchSizes: [1000] });
    e2e = await measureE2E(ctx, srv, { mode: 'single' });
  } finally { await ctx.stopServer(srv); }
  const o = (id) => (key === 'empty' ? {} : { vs: `scale.empty.${id}` });
  ctx.metric(`scale.${key}.create.single.tps`, `create 1/call c32, ${text}`, create.single.tps, 'tasks/s', o('create.single.tps'));
  ctx.metric(`scale.${key}.create.single.p99_ms`, `create 1/call c32 p99, ${text}`, create.single.p99, 'ms');
  ctx.metric(`scale.${key}.create.batch1000.tps`, `create 1000/call, ${text}`, create.batch1000.tps, 'tasks/s', o('create.batch1000.tps'));
  ctx.metric(`scale.${key}.e2e.tps`, `end to end 1/call c32, ${text}`, e2e.tps, 'tasks/s', o('e2e.tps'));
  ctx.metric(`scale.${key}.peak_rss_mib`, `server peak RSS, ${text}`, srv.peakRss, 'MiB');
  ctx.detail(`scale.${key}`, { create, e2e, idle_rss_mib: srv.idleRssMiB, start_ms: srv.startMs });
}

export default async function scale(ctx) {
  const { scaleTerminal: T, scaleDelayed: D } = ctx.opts;
  await measure(ctx, 'empty', 'empty table');
  const seeder = await ctx.server('scale-seed');
  let s;
  try { s = await seed(ctx, seeder, { terminal: T, delayed: D }); } finally { await ctx.stopServer(seeder); }
  ctx.metric('scale.seed_s', `seeding ${fmt(T)} cancelled + ${fmt(D)} delayed through the API`, s.seconds, 's');
  ctx.detail('scale.seed', s);
  await measure(ctx, 'full', `${fmt(T)} terminal + ${fmt(D)} delayed rows`, seeder.db);
}
