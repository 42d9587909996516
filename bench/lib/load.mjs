// Load generator, always a separate process from the server and the target.
// Modes (one JSON result line on stdout):
//   ceiling  N POSTs of a small JSON body straight at --url, C in flight (500 unmeasured first)
//   single   N `POST /v1/tasks`, C in flight over keep-alive; per-call latency
//   batch    N tasks as `POST /v1/tasks/batch` of B each, C calls in flight
//   rate     open loop: R tasks/s for D seconds, single creates; records each call's return time
//   seed     N tasks in batches of B, `delay` seconds ahead, minimal payload
// Every loop is bounded by count and by --timeout seconds.
import { Pool } from 'undici';
import { now, sleep, parseArgs, percentiles } from './common.mjs';

const a = parseArgs(process.argv.slice(2), {
  mode: 'single', url: '', origin: '', n: '20000', c: '32', b: '100', rate: '200', duration: '10',
  run: 'r', first: '0', target: '', queue: 'default', timeout: '300', body: 'hook', delay: '0', labels: '', token: process.env.AQ_TOKEN || '',
});
const N = Number(a.n), C = Number(a.c), B = Number(a.b);
const deadline = Date.now() + Number(a.timeout) * 1000;
const origin = a.url ? new URL(a.url).origin : a.origin;
const pool = new Pool(origin, { connections: a.mode === 'rate' ? 256 : C, pipelining: 1, keepAliveTimeout: 60000 });
const headers = { 'content-type': 'application/json' };
if (a.token) headers.authorization = `Bearer ${a.token}`;
const data = 'x'.repeat(40);
let ok = 0, fail = 0, firstErr = null;
const err = (e) => { fail++; if (!firstErr) firstErr = String(e?.message || e).slice(0, 300); };

async function post(path, body) {
  const r = await pool.request({ path, method: 'POST', headers, body, headersTimeout: 120000, bodyTimeout: 120000 });
  const text = await r.body.text();
  if (r.statusCode >= 300) throw new Error(`${path} answered ${r.statusCode}: ${text.slice(0, 200)}`);
  return text;
}
const delay = Number(a.delay);
// --first: this process's tasks are numbered from it (several load processes feeding one run, bench --nodes)
const FIRST = Number(a.first);
const task = (seq, track = false) => {
  const t = { targetUrl: a.target, queue: a.queue, payload: { run: a.run, seq: seq + FIRST, t: now(), track, kind: 'bench', data } };
  if (delay > 0) t.delay = delay;
  return t;
};

/** C loops sharing one counter; each call takes k = step(start) items. */
async function closedLoop(step, call) {
  let next = 0;
  const loop = async () => {
    while (next < N && Date.now() < deadline) {
      const start = next; const k = Math.min(step, N - start); next += k;
      try { await call(start, k); ok += k; } catch (e) { err(e); fail += k - 1; }
    }
  };
  await Promise.all(Array.from({ length: C }, loop));
}

const out = { mode: a.mode, n: N, c: C };
if (a.mode === 'ceiling') {
  const url = new URL(a.url);
  const body = (seq) => a.body === 'task' ? JSON.stringify(task(seq)) : JSON.stringify({ run: a.run, seq, t: now(), kind: 'bench', data });
  let w = 0;
  await Promise.all(Array.from({ length: C }, async () => { while (w < 500 && Date.now() < deadline) { w++; await post(url.pathname, body(0)).catch(() => {}); } }));
  const t0 = now();
  await closedLoop(1, (seq) => post(url.pathname, body(seq)));
  const ms = now() - t0;
  Object.assign(out, { ok, fail, firstErr, ms: Math.round(ms), rps: Math.round((ok / ms) * 1000) });
} else if (a.mode === 'single') {
  const lat = new Float64Array(N); let nl = 0;
  const t0 = now();
  await closedLoop(1, async (seq) => { const s = now(); await post('/v1/tasks', JSON.stringify(task(seq))); lat[nl++] = now() - s; });
  const t1 = now();
  Object.assign(out, { ok, fail, firstErr, t0, t1, ms: Math.round(t1 - t0), tps: Math.round((ok / (t1 - t0)) * 1000), latency_ms: percentiles(lat.subarray(0, nl)) });
} else if (a.mode === 'batch') {
  const t0 = now();
  await closedLoop(B, (start, k) => post('/v1/tasks/batch', JSON.stringify({ tasks: Array.from({ length: k }, (_, i) => task(start + i)) })));
  const t1 = now();
  Object.assign(out, { b: B, ok, fail, firstErr, t0, t1, ms: Math.round(t1 - t0), tps: Math.round((ok / (t1 - t0)) * 1000) });
} else if (a.mode === 'seed') {
  const labels = a.labels ? a.labels.split(',') : undefined;
  const seedTask = (seq) => ({ targetUrl: a.target, queue: a.queue, delay, labels, payload: { seq } });
  const t0 = now();
  await closedLoop(B, (start, k) => post('/v1/tasks/batch', JSON.stringify({ tasks: Array.from({ length: k }, (_, i) => seedTask(start + i)) })));
  const t1 = now();
  Object.assign(out, { b: B, ok, fail, firstErr, ms: Math.round(t1 - t0), tps: Math.round((ok / (t1 - t0)) * 1000) });
} else if (a.mode === 'rate') {
  // Open loop: each tick sends every call that is due, whatever is still in flight.
  const R = Number(a.rate), D = Number(a.duration), total = Math.round(R * D), gap = 1000 / R;
  const ret = new Array(total).fill(null);
  const pending = [];
  let inflight = 0, maxInflight = 0, late = 0, i = 0;
  const t0 = now();
  while (i < total && Date.now() < deadline) {
    const t = now();
    for (; i < total && t0 + i * gap <= t; i++) {
      if (t - (t0 + i * gap) > 5) late++;
      const seq = i;
      inflight++; maxInflight = Math.max(maxInflight, inflight);
      pending.push(post('/v1/tasks', JSON.stringify(task(seq, true))).then(() => { ret[seq] = now(); ok++; }, err).finally(() => { inflight--; }));
    }
    if (inflight > 5000) await Promise.race([sleep(1000), Promise.all(pending)]);
    await sleep(Math.max(0, Math.min(gap, t0 + i * gap - now()) - 0.2));
  }
  await Promise.race([Promise.all(pending), sleep(Math.max(0, deadline - Date.now()))]);
  const t1 = now();
  Object.assign(out, { rate: R, n: total, ok, fail, firstErr, late_sends: late, max_inflight: maxInflight, t0, t1, achieved_rate: Math.round((ok / (t1 - t0)) * 1000), returns: ret });
} else {
  throw new Error(`unknown mode ${a.mode}`);
}
await Promise.race([pool.close(), sleep(3000)]);
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(0);
