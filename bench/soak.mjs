#!/usr/bin/env node
// Soak: steady load on the real server (`asyncqueue serve`, built dist/) for --minutes, sampling
// its RSS, heap, open handles and file descriptors, to show none of them grows. Not part of
// `npm test`. Run: npm run build && node bench/soak.mjs [--minutes 10] [--rate 200] [--sample 10]
// Only 127.0.0.1 traffic: a local target, a local server; everything stops by itself.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values: opt } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    rate: { type: 'string', default: '200' }, // tasks created per second
    sample: { type: 'string', default: '10' }, // seconds between samples
    json: { type: 'string' }, // optional file for the samples
  },
});
const minutes = Number(opt.minutes);
const rate = Number(opt.rate);
const sampleMs = Number(opt.sample) * 1000;
const root = path.resolve(import.meta.dirname, '..');
if (!fs.existsSync(path.join(root, 'dist', 'cli', 'main.js'))) {
  console.error('dist/ is missing: run `npm run build` first');
  process.exit(2);
}

// A target that answers fast, failing 5% of attempts (so retries run too).
let targetHits = 0;
const target = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    targetHits++;
    const fail = Math.random() < 0.05;
    res.writeHead(fail ? 500 : 200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: !fail }));
  });
});
await new Promise((r) => target.listen(0, '127.0.0.1', r));
const targetUrl = `http://127.0.0.1:${target.address().port}/soak`;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aq-soak-'));
const server = spawn(process.execPath, [path.join(root, 'bin', 'asyncqueue.js'), 'serve', '--port', '0', '--db', path.join(dir, 'soak.db'), '--log-level', 'warn', '--retention', '2m'], {
  stdio: ['ignore', 'pipe', 'pipe'],
});
let serverOut = '';
server.stdout.on('data', (d) => (serverOut = (serverOut + d).slice(-20_000)));
const url = await new Promise((resolve, reject) => {
  const timer = setTimeout(() => reject(new Error('server did not start')), 20_000);
  server.stderr.on('data', (d) => {
    serverOut = (serverOut + d).slice(-20_000);
    const m = /listening on (http:\/\/\S+)/.exec(serverOut);
    if (m) (clearTimeout(timer), resolve(m[1]));
  });
});

const proc = (name) => {
  const m = new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(fs.readFileSync(`/proc/${server.pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
};
const metric = (text, name) => {
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+]+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
};

let created = 0;
let errors = 0;
const post = (body) =>
  fetch(url + '/v1/tasks/batch', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(
    async (r) => (r.status === 201 ? (created += (await r.json()).tasks.length) : (errors++, await r.text())),
    () => errors++,
  );
const task = () => ({ targetUrl, payload: { at: Date.now(), pad: 'x'.repeat(200) }, retries: 3, backoff: { initial: 0.05, factor: 2, max: 1 } });

// One SSE client for the whole run, plus a long-poll now and then: the handles they hold must come back.
const sse = new AbortController();
fetch(url + '/v1/events', { signal: sse.signal }).then((r) => r.body?.pipeTo(new WritableStream({})).catch(() => {}), () => {});

const samples = [];
const started = Date.now();
const endAt = started + minutes * 60_000;
const tick = 100; // ms
const perTick = Math.max(1, Math.round((rate * tick) / 1000));
const load = setInterval(() => {
  if (Date.now() >= endAt) return;
  void post({ tasks: Array.from({ length: perTick }, task) });
  if (Math.random() < 0.05) void fetch(url + '/v1/tasks?limit=50').then((r) => r.text(), () => errors++);
}, tick);
const sample = async () => {
  const metrics = await fetch(url + '/metrics').then((r) => r.text(), () => '');
  const stats = await fetch(url + '/v1/stats').then((r) => r.json(), () => ({ counts: {} }));
  const s = {
    t: Math.round((Date.now() - started) / 1000),
    rssMb: +(proc('VmRSS') / 1024).toFixed(1),
    heapMb: metric(metrics, 'nodejs_heap_size_used_bytes') === null ? null : +(metric(metrics, 'nodejs_heap_size_used_bytes') / 2 ** 20).toFixed(1),
    handles: metric(metrics, 'nodejs_active_handles_total'),
    fds: fs.readdirSync(`/proc/${server.pid}/fd`).length,
    threads: proc('Threads'),
    created,
    pending: stats.counts.pending ?? null,
    stored: Object.values(stats.counts).reduce((a, b) => a + b, 0),
  };
  samples.push(s);
  console.log(`${String(s.t).padStart(5)} s  rss ${s.rssMb} MB  heap ${s.heapMb} MB  handles ${s.handles}  fds ${s.fds}  created ${s.created}  pending ${s.pending}  stored ${s.stored}`);
};
await sample();
while (Date.now() < endAt) {
  await new Promise((r) => setTimeout(r, Math.min(sampleMs, endAt - Date.now())));
  await sample();
}
clearInterval(load);
sse.abort();

// Summary: after a warm-up (the first fifth of the run), compare the first and last thirds.
const warm = samples.filter((s) => s.t >= (minutes * 60) / 5);
const third = Math.max(1, Math.floor(warm.length / 3));
const avg = (xs, k) => xs.reduce((a, s) => a + (s[k] ?? 0), 0) / xs.length;
const slope = (k) => {
  const n = warm.length;
  const mx = avg(warm, 't');
  const my = avg(warm, k);
  const num = warm.reduce((a, s) => a + (s.t - mx) * ((s[k] ?? 0) - my), 0);
  const den = warm.reduce((a, s) => a + (s.t - mx) ** 2, 0);
  return n > 1 && den > 0 ? (num / den) * 60 : 0;
};
const row = (k, unit) =>
  `${k.padEnd(8)} early ${avg(warm.slice(0, third), k).toFixed(1)}${unit}  late ${avg(warm.slice(-third), k).toFixed(1)}${unit}  ` +
  `max ${Math.max(...warm.map((s) => s[k] ?? 0))}${unit}  trend ${slope(k).toFixed(2)}${unit}/min`;
console.log(`\nsoak: ${minutes} min at ${rate} tasks/s: ${created} tasks created, ${targetHits} target requests, ${errors} errors`);
for (const [k, unit] of [['rssMb', ' MB'], ['heapMb', ' MB'], ['handles', ''], ['fds', '']]) console.log(row(k, unit));
if (opt.json) fs.writeFileSync(opt.json, JSON.stringify({ minutes, rate, created, targetHits, errors, samples }, null, 2));

server.kill('SIGTERM');
await new Promise((r) => server.on('exit', r));
target.close();
fs.rmSync(dir, { recursive: true, force: true });
