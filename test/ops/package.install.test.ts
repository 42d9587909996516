// The npm package as users get it: `npm pack` of this repo, installed with npm into an empty
// directory, then `npx asyncqueue serve`, the "asyncqueue" SDK, the embeddable
// "asyncqueue/server" and the types of both, all taken from the installed tarball.
// Dependencies are pre-seeded by hard-linking this repo's production node_modules (with their
// hidden lockfile), so npm installs only the tarball: no registry, no native compile (~1 s
// instead of ~2 min). What this does not prove — that better-sqlite3 compiles on a fresh
// machine — the Docker build stage covers (see docs/ops.md).
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTarget } from '../helpers/target.js';
import { hermeticEnv } from '../helpers/temp.js';
import { linkTree } from './link-tree.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NPM = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const ALLOWED_TOP = new Set(['bin', 'dist', 'README.md', 'LICENSE', 'SECURITY.md', 'package.json']);

let dir = '';
let app = '';
let packed: string[] = [];

/** Hard-links the repo's production dependencies (and their .bin links) into `app/node_modules`. */
function seedDependencies(): void {
  const hidden = path.join(ROOT, 'node_modules', '.package-lock.json');
  const lock = JSON.parse(fs.readFileSync(fs.existsSync(hidden) ? hidden : path.join(ROOT, 'package-lock.json'), 'utf8'));
  const nm = path.join(app, 'node_modules');
  fs.mkdirSync(path.join(nm, '.bin'), { recursive: true });
  const keep: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries<{ dev?: boolean; bin?: Record<string, string> }>(lock.packages)) {
    if (!key.startsWith('node_modules/') || entry.dev) continue;
    keep[key] = entry;
    const name = key.slice('node_modules/'.length);
    if (name.includes('/node_modules/')) continue; // nested: comes with its parent
    const from = path.join(ROOT, key);
    if (!fs.existsSync(from)) continue;
    fs.mkdirSync(path.dirname(path.join(nm, name)), { recursive: true });
    linkTree(from, path.join(nm, name));
    for (const bin of Object.keys(entry.bin ?? {})) {
      const link = path.join(ROOT, 'node_modules', '.bin', bin);
      if (fs.existsSync(link)) fs.symlinkSync(fs.readlinkSync(link), path.join(nm, '.bin', bin));
    }
  }
  fs.writeFileSync(path.join(nm, '.package-lock.json'), JSON.stringify({ ...lock, name: 'consumer', packages: keep }));
}

/** Runs a module script in the consumer directory and returns its stdout. */
function runScript(name: string, source: string, env: Record<string, string> = {}): Promise<string> {
  fs.writeFileSync(path.join(app, name), source);
  const child = spawn(process.execPath, [name], { cwd: app, env: hermeticEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  return new Promise((resolve, reject) =>
    child.on('close', (code) => (clearTimeout(timer), code === 0 ? resolve(out) : reject(new Error(`${name} exited ${code}:\n${err}${out}`)))),
  );
}

describe('the npm package', () => {
  beforeAll(() => {
    if (!fs.existsSync(path.join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first (npm test does)');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aq-pack-'));
    app = path.join(dir, 'consumer');
    fs.mkdirSync(app);
    // --ignore-scripts: `prepare` would rebuild dist/ under the feet of other test files.
    const out = execFileSync(NPM, ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const info = JSON.parse(out)[0] as { filename: string; files: { path: string }[] };
    packed = info.files.map((f) => f.path);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    seedDependencies();
    execFileSync(NPM, ['install', path.join(dir, info.filename), '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: app, stdio: 'pipe' });
  }, 60_000);
  afterAll(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('packs only bin/, dist/ (no source maps), README, LICENSE, SECURITY and package.json', () => {
    const outside = packed.filter((f) => !ALLOWED_TOP.has(f.split('/')[0]!));
    expect(outside).toEqual([]);
    expect(packed.filter((f) => f.endsWith('.map') || f.endsWith('.test.js') || /\.ts$/.test(f.replace(/\.d\.ts$/, '')))).toEqual([]);
    for (const f of ['package.json', 'LICENSE', 'bin/asyncqueue.js', 'dist/index.js', 'dist/index.d.ts', 'dist/server.js', 'dist/server.d.ts', 'dist/cli/main.js']) {
      expect(packed).toContain(f);
    }
    for (const f of ['README.md', 'SECURITY.md']) if (fs.existsSync(path.join(ROOT, f))) expect(packed).toContain(f);
    const pkg = JSON.parse(fs.readFileSync(path.join(app, 'node_modules', 'asyncqueue', 'package.json'), 'utf8'));
    expect(pkg.bin).toEqual({ asyncqueue: 'bin/asyncqueue.js', aq: 'bin/asyncqueue.js' });
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining(['.', './server']));
    expect(pkg.license).toBe('MIT');
    expect(pkg.engines.node).toMatch(/>=\s*20/);
  });

  it('`npx asyncqueue serve` in an empty directory serves, runs a task to completion through the SDK, and stops on SIGTERM', async () => {
    const target = await startTarget(() => ({ status: 200, body: { done: true } }));
    const proc = spawn('npx', ['--offline', '--no', 'asyncqueue', 'serve', '--port', '0', '--log-level', 'info'], {
      cwd: app, env: hermeticEnv(), stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    let output = '';
    proc.stdout.on('data', (d) => (output += d));
    proc.stderr.on('data', (d) => (output += d));
    const exited = new Promise<string>((r) => proc.on('close', (code, signal) => r(String(code ?? signal))));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "listening on" line:\n${output}`)), 20_000);
        const check = () => {
          const m = /listening on (http:\/\/\S+)/.exec(output);
          if (m) (clearTimeout(timer), resolve(m[1]!));
        };
        proc.stdout.on('data', check);
        proc.stderr.on('data', check);
        proc.on('exit', () => (clearTimeout(timer), reject(new Error(`npx exited:\n${output}`))));
      });
      const result = await runScript(
        'sdk.mjs',
        `import { AsyncQueue } from 'asyncqueue';
const aq = new AsyncQueue({ url: process.env.URL });
const task = await aq.tasks.create({ targetUrl: process.env.TARGET, payload: { n: 1 } });
console.log(JSON.stringify(await aq.tasks.waitFor(task.id)));`,
        { URL: url, TARGET: target.url },
      );
      const task = JSON.parse(result);
      expect(task.status).toBe('completed');
      expect(task.result).toEqual({ done: true });
      expect(fs.existsSync(path.join(app, 'asyncqueue.db'))).toBe(true);
    } finally {
      if (proc.exitCode === null) process.kill(-proc.pid!, 'SIGTERM');
    }
    // npx re-raises the signal it forwarded; 'close' waits for the server inside, which drained.
    expect(['0', 'SIGTERM']).toContain(await exited);
    expect(output).toMatch(/"msg":"stopped"/);
  });

  it('"asyncqueue/server" starts and stops an embedded server from another program', async () => {
    const target = await startTarget();
    const out = await runScript(
      'embed.mjs',
      `import { createServer } from 'asyncqueue/server';
import { AsyncQueue } from 'asyncqueue';
const server = await createServer({ db: './embedded.db', port: 0, logLevel: 'silent' });
const aq = new AsyncQueue({ url: server.url });
const task = await aq.tasks.create({ targetUrl: process.env.TARGET });
const done = await aq.tasks.waitFor(task.id);
await server.close();
console.log(JSON.stringify({ status: done.status, fingerprint: server.secretFingerprint }));`,
      { TARGET: target.url },
    );
    expect(JSON.parse(out)).toEqual({ status: 'completed', fingerprint: expect.any(String) });
    expect(target.requests).toHaveLength(1);
  });

  it('ships types for "asyncqueue" and "asyncqueue/server" that a strict NodeNext project compiles against', () => {
    fs.writeFileSync(
      path.join(app, 'check.ts'),
      `import { AsyncQueue, verifySignature, type Task } from 'asyncqueue';
import { createServer, type AsyncQueueServer } from 'asyncqueue/server';
const aq: AsyncQueue = new AsyncQueue({ url: 'http://127.0.0.1:8700' });
const start: (o: { db: string; port: number }) => Promise<AsyncQueueServer> = createServer;
export const used: [AsyncQueue, typeof verifySignature, typeof start, Task | undefined] = [aq, verifySignature, start, undefined];
`,
    );
    const tsc = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const args = ['check.ts', '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--skipLibCheck',
      '--typeRoots', path.join(ROOT, 'node_modules', '@types'), '--types', 'node'];
    try {
      execFileSync(process.execPath, [tsc, ...args], { cwd: app, encoding: 'utf8', stdio: 'pipe' });
    } catch (err) {
      throw new Error(`tsc: ${(err as { stdout?: string }).stdout}`);
    }
  });
});
