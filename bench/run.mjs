#!/usr/bin/env node
// AsyncQueue benchmark suite (`npm run bench`; never part of `npm test`).
// Starts a real server (`node bin/asyncqueue.js serve`, needs `npm run build`),
// a trivial target and load generators as separate processes on 127.0.0.1,
// prints a table with targets and writes JSON to bench/results/.
//   npm run bench -- [--only ceiling,create,e2e,latency,memory,scale,retention,keys,profile]
//                    [--n 20000] [--runs 1] [--quick] [--long] [--max-minutes 60]
//                    [--store sqlite|postgres] [--pg-url postgres://…]
// See docs/bench.md for every option and what each figure means.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from './lib/common.mjs';
import { startProc, stopAll, runNode } from './lib/procs.mjs';
import { startServer } from './lib/server.mjs';
import { targetControl } from './lib/control.mjs';
import { withRatios, summarize, table, serverTable } from './lib/report.mjs';
import { waitQuiet, foreignCpu } from './lib/quiet.mjs';
import { commitCost } from './lib/disk.mjs';
import { clusterCpuMs, freshDatabase, pgForBench } from './lib/postgres.mjs';

const benchDir = path.dirname(fileURLToPath(import.meta.url));
const libDir = path.join(benchDir, 'lib');
const ALL = ['ceiling', 'create', 'e2e', 'latency', 'memory', 'scale', 'retention', 'keys'];
const EXTRA = ['profile', 'nodes'];

const A = parseArgs(process.argv.slice(2), {
  only: ALL.join(','), runs: '1', quick: 'false', long: 'false', 'max-minutes': '90',
  'aq-dir': path.resolve(benchDir, '..'), 'server-args': '', 'node-args': '', durability: '', 'wait-quiet': '120',
  store: 'sqlite', 'pg-url': '', nodes: '1',
}, ['server-args', 'node-args', 'retention-args']);
const quick = A.quick === 'true';
const pick = (k, full, q) => Number(A[k] ?? (quick ? q : full));
const opts = {
  n: pick('n', 20000, 2000),
  batchN: pick('batch-n', 100000, 10000),
  batchC: pick('batch-c', 8, 8),
  warmup: pick('warmup', 500, 200),
  duration: pick('duration', 10, 3),
  rates: (A.rates || '200,1000').split(',').map(Number),
  scaleTerminal: pick('scale-terminal', A.long === 'true' ? 10_000_000 : 1_000_000, 20000),
  scaleDelayed: pick('scale-delayed', 100_000, 2000),
  seedDelay: pick('seed-delay', 7 * 86400, 7 * 86400),
  seedLabels: A['seed-labels'] === 'true',
  retentionRows: pick('retention-rows', 1_000_000, 20000),
  retentionRate: pick('retention-rate', 1000, 1000),
  retentionArgs: (A['retention-args'] || '--retention 1s').split(' ').filter(Boolean),
  purgeTimeoutS: pick('purge-timeout', 600, 60),
  nodes: Number(A.nodes),
};
const only = A.only.split(',').filter(Boolean);
for (const s of only) if (!ALL.includes(s) && !EXTRA.includes(s)) { console.error(`unknown scenario "${s}" (have ${[...ALL, ...EXTRA].join(', ')})`); process.exit(2); }
const aqDir = path.resolve(A['aq-dir']);
const serverArgs = A['server-args'].split(' ').filter(Boolean);
const nodeArgs = A['node-args'].split(' ').filter(Boolean);
if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 8) { console.error(`--nodes must be 1–8, got "${A.nodes}"`); process.exit(2); }
if (opts.nodes > 1 && A.store !== 'postgres') { console.error('--nodes above 1 needs --store postgres (nodes share one PostgreSQL database)'); process.exit(2); }
if (opts.nodes > 1 && !only.includes('nodes')) only.push('nodes');
if (A.store !== 'sqlite' && A.store !== 'postgres') { console.error(`--store must be sqlite or postgres, got "${A.store}"`); process.exit(2); }
let pgb = null; // {url, stop(), postmasterPid} with --store postgres
const hardEnd = Date.now() + Number(A['max-minutes']) * 60000;

const resultsDir = path.join(benchDir, 'results');
fs.mkdirSync(resultsDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19);
const tmpBase = fs.mkdtempSync(path.join(os.tmpdir(), 'aq-bench-'));
const log = (...m) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${m.join(' ')}\n`);

// On SIGINT/SIGTERM: stop every process we started (the running scenario then
// fails fast), write what was measured so far, exit 130/143.
let interrupted = null;
async function cleanup() {
  await stopAll();
  pgb?.stop();
  if (A['keep-tmp'] !== 'true') fs.rmSync(tmpBase, { recursive: true, force: true });
}
const onSignal = (code) => () => {
  if (interrupted) return;
  interrupted = code;
  log(`interrupted: stopping every process started, then writing partial results`);
  stopAll();
  setTimeout(() => process.exit(code), 20000).unref();
};
process.on('SIGINT', onSignal(130));
process.on('SIGTERM', onSignal(143));

function git(...args) { try { return execFileSync('git', ['-C', aqDir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return null; } }
function ver(name) { try { return JSON.parse(fs.readFileSync(path.join(aqDir, 'node_modules', name, 'package.json'), 'utf8')).version; } catch { return null; } }
const machine = {
  cpus: os.cpus().length, cpu_model: os.cpus()[0]?.model?.trim(), mem_gib: Math.round(os.totalmem() / 2 ** 30), os: `${os.type()} ${os.release()}`,
  node: process.version, commit: git('rev-parse', '--short', 'HEAD'), dirty: git('status', '--porcelain', '--', 'src') ? 'src has uncommitted changes' : null,
  loadavg_at_start: os.loadavg().map((x) => Math.round(x * 100) / 100),
  undici: ver('undici'), hono: ver('hono'), 'better-sqlite3': ver('better-sqlite3'),
};

/** One rep's context: what every scenario gets. */
function context(rep, target) {
  const tmp = fs.mkdtempSync(path.join(tmpBase, `rep${rep}-`));
  const metrics = {}, details = {}, notes = [], servers = [];
  const timeLeftS = () => Math.max(10, Math.floor((hardEnd - Date.now()) / 1000));
  const ctx = {
    opts, rep, tmp, target, libDir, benchDir, resultsDir, stamp, log, aqDir,
    /** With --store postgres: an admin URL and a fresh database per call (scenarios that use the store in process). */
    pgUrl: pgb?.url, freshDatabase: (name) => freshDatabase(pgb.url, `${name}_${rep}`),
    metric(id, label, value, unit, { vs } = {}) { metrics[id] = { label, unit, value: value ?? null, vs }; },
    value: (id) => metrics[id]?.value ?? null,
    detail(k, v) { details[k] = v; },
    note(s) { notes.push(s); log(`note: ${s}`); },
    load(mode, args, timeoutS = 600) {
      const t = Math.min(timeoutS, timeLeftS());
      return runNode(path.join(libDir, 'load.mjs'), ['--mode', mode, '--timeout', String(t), ...args.map(String)], t + 30, { log: path.join(tmp, 'load.log') });
    },
    async server(name, o = {}) {
      const db = pgb ? await freshDatabase(pgb.url, `${name}_${rep}`) : undefined;
      const srv = await startServer({ aqDir, dir: tmp, name, db, ...o, durability: o.durability || A.durability || undefined, args: [...serverArgs, ...(o.args || [])], nodeArgs: [...nodeArgs, ...(o.nodeArgs || [])] });
      // with PostgreSQL, the database's own CPU is measured next to the server's
      if (pgb) srv.dbCpuMs = () => clusterCpuMs(pgb.postmasterPid);
      log(`server ${name} up in ${srv.startMs} ms, idle RSS ${srv.idleRssMiB} MiB`);
      return srv;
    },
    /** `n` servers on one fresh database (api.md §9), node ids <name>-1…<name>-n. */
    async servers(name, n, o = {}) {
      const db = await freshDatabase(pgb.url, `${name}_${rep}`);
      const list = [];
      for (let i = 1; i <= n; i++) {
        const srv = await startServer({ aqDir, dir: tmp, name: `${name}-${i}`, db, ...o, durability: o.durability || A.durability || undefined, args: [...serverArgs, '--node-id', `${name}-${i}`, ...(o.args || [])], nodeArgs: [...nodeArgs, ...(o.nodeArgs || [])] });
        srv.dbCpuMs = () => clusterCpuMs(pgb.postmasterPid);
        log(`server ${srv.name} up in ${srv.startMs} ms, idle RSS ${srv.idleRssMiB} MiB`);
        list.push(srv);
      }
      return list;
    },
    async stopServer(srv) {
      const r = await srv.stop();
      srv.peakRss = r.peakRssMiB;
      servers.push({ name: srv.name, startMs: srv.startMs, idleRssMiB: srv.idleRssMiB, peakRssMiB: r.peakRssMiB, exit: r.exit });
      if (r.exit !== 0) ctx.note(`server ${srv.name} exited with ${r.exit} on SIGTERM`);
    },
  };
  return { ctx, result: { rep, metrics, details, notes, servers, busy: {}, foreignCpu: {} } };
}

try {
  const built = fs.existsSync(path.join(aqDir, 'bin/asyncqueue.js')) && fs.existsSync(path.join(aqDir, 'dist/cli/main.js'));
  if (!built && only.some((s) => s !== 'ceiling')) {
    throw new Error(`no built server in ${aqDir} (run \`npm run build\` first, or pass --aq-dir)`);
  }
  if (A.store === 'postgres') {
    pgb = await pgForBench({ url: A['pg-url'] || undefined });
    machine.store = `postgresql (${A['pg-url'] ? 'given server' : 'throw-away cluster, fsync on'})`;
    log(`store: ${machine.store}`);
  } else machine.store = 'sqlite';
  log(`machine: ${machine.cpus} × ${machine.cpu_model}, ${machine.mem_gib} GiB, ${machine.os}, Node ${machine.node}, load average ${machine.loadavg_at_start.join(' ')}`);
  machine.commit_ms = commitCost(aqDir, tmpBase);
  if (machine.commit_ms) log(`disk: one-row SQLite commit (WAL) p50/p99 ${machine.commit_ms.full.p50}/${machine.commit_ms.full.p99} ms with synchronous=FULL, ${machine.commit_ms.normal.p50}/${machine.commit_ms.normal.p99} ms with NORMAL`);
  log(`asyncqueue commit ${machine.commit}${machine.dirty ? ` (${machine.dirty})` : ''}; scenarios: ${only.join(', ')}; runs ${A.runs}; N ${opts.n}${quick ? ' (quick)' : ''}`);
  const tproc = startProc('target', process.execPath, [path.join(libDir, 'target.mjs')], { env: { PORT: '0' }, log: path.join(tmpBase, 'target.log') });
  const target = targetControl((await tproc.waitLine((o) => 'listening' in o)).listening);
  const reps = [];
  const file = path.join(resultsDir, `bench-${stamp}.json`);
  const save = (partial) => fs.writeFileSync(file, JSON.stringify({ machine, args: A, opts, scenarios: only, partial, summary: summarize(reps), reps }, null, 2));
  for (let rep = 1; rep <= Number(A.runs) && !interrupted; rep++) {
    const { ctx, result } = context(rep, target);
    reps.push(result);
    for (const name of only) {
      if (interrupted) break;
      if (Date.now() > hardEnd) { ctx.note(`time budget (--max-minutes ${A['max-minutes']}) spent before ${name}`); break; }
      const busy = await waitQuiet({ maxS: Number(A['wait-quiet']) });
      result.busy[name] = busy;
      if (busy > 0.15) ctx.note(`machine busy before ${name}: ${Math.round(busy * 100)}% of the CPU used by other processes (figures will be low)`);
      log(`rep ${rep}: ${name} (machine ${Math.round(busy * 100)}% busy)`);
      const t0 = Date.now(), foreign = foreignCpu([tproc.pid], pgb ? () => clusterCpuMs(pgb.postmasterPid) ?? 0 : undefined);
      try { await (await import(`./scenarios/${name}.mjs`)).default(ctx); }
      catch (e) { ctx.note(`${name} failed: ${interrupted ? 'interrupted' : e.message}`); }
      const other = foreign();
      result.foreignCpu[name] = other;
      if (other > 0.1) ctx.note(`${name}: other processes used ${Math.round(other * 100)}% of the CPU while it ran (figures will be low)`);
      log(`rep ${rep}: ${name} done in ${Math.round((Date.now() - t0) / 1000)} s; other processes used ${Math.round(other * 100)}% of the CPU meanwhile`);
      withRatios(result.metrics);
      save(true);
    }
  }
  const rows = summarize(reps);
  const md = table(rows);
  const fsync = machine.commit_ms ? ` · durable commit p50 ${machine.commit_ms.full.p50} ms` : '';
  const head = `AsyncQueue ${machine.commit || '?'} · ${machine.store} · ${machine.cpus} cores (${machine.cpu_model}) · Node ${machine.node}${fsync} · ${reps.length} run(s), medians · N=${opts.n}${interrupted ? ' · INTERRUPTED' : ''}`;
  console.log(`\n${head}\n\n${md}\n\nServers:\n\n${serverTable(reps)}`);
  const notes = reps.flatMap((r) => r.notes.map((n) => `rep ${r.rep}: ${n}`));
  if (notes.length) console.log(`\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}`);
  save(!!interrupted);
  fs.writeFileSync(path.join(resultsDir, `bench-${stamp}.md`), `${head}\n\n${md}\n`);
  log(`results → ${path.relative(process.cwd(), file)}`);
  await cleanup();
  process.exit(interrupted || 0);
} catch (e) {
  log('fatal: ' + (e.stack || e.message));
  await cleanup();
  process.exit(1);
}
