// The Docker image without a Docker engine: the Dockerfile's structure is checked, then its
// steps are replayed in a temp dir standing in for the image (COPY honours .dockerignore, RUN
// steps run for real or through a named stand-in), and the CMD is started with the image's ENV
// as a non-root user: it must serve, pass its HEALTHCHECK, and drain an attempt on SIGTERM.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { startTarget } from '../helpers/target.js';
import { linkTree } from './link-tree.js';
import { dockerIgnore, envPairs, parseDockerfile, type Stage } from './dockerfile.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const stages = parseDockerfile(fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const ignored = dockerIgnore(fs.readFileSync(path.join(ROOT, '.dockerignore'), 'utf8'));
const final = stages.at(-1)!;
const steps = (s: Stage, op: string) => s.steps.filter((i) => i.op === op);
const last = (s: Stage, op: string) => steps(s, op).at(-1);

/** Copies a context file or directory to `to`, leaving out what .dockerignore excludes. */
function copyFromContext(rel: string, to: string): void {
  const from = path.join(ROOT, rel);
  if (fs.statSync(from).isDirectory()) {
    fs.mkdirSync(to, { recursive: true });
    for (const name of fs.readdirSync(from)) if (!ignored(path.posix.join(rel, name))) copyFromContext(path.posix.join(rel, name), path.join(to, name));
  } else fs.copyFileSync(from, to);
}

interface Image {
  root: (stage: number) => string;
  workdir: string;
  env: Record<string, string>;
  standIns: string[];
}

/** Replays every stage's WORKDIR, ENV, COPY and RUN in `dir`; returns the final stage's state. */
function build(dir: string, runUid: number | undefined): Image {
  const standIns: string[] = [];
  const root = (i: number) => path.join(dir, `stage${i}`);
  let workdir = '/';
  let env: Record<string, string> = {};
  stages.forEach((stage, i) => {
    workdir = '/';
    env = {};
    const host = (p: string) => path.join(root(i), path.posix.resolve(workdir, p));
    fs.mkdirSync(root(i), { recursive: true });
    for (const step of stage.steps) {
      if (step.op === 'WORKDIR') fs.mkdirSync(host((workdir = path.posix.resolve(workdir, step.args))), { recursive: true });
      if (step.op === 'ENV') Object.assign(env, envPairs(step.args));
      if (step.op === 'COPY') {
        const parts = step.exec ?? step.args.split(/\s+/);
        const dest = parts.at(-1)!;
        for (const src of parts.slice(0, -1)) {
          const intoDir = dest.endsWith('/') || parts.length > 2;
          if (step.flags.from) {
            const from = path.join(root(stages.findIndex((s) => s.name === step.flags.from)), src);
            fs.mkdirSync(path.dirname(host(dest)), { recursive: true });
            linkTree(from, intoDir ? path.join(host(dest), path.basename(src)) : host(dest));
          } else {
            expect(ignored(src), `COPY ${src}: excluded by .dockerignore`).toBe(false);
            if (intoDir) fs.mkdirSync(host(dest), { recursive: true });
            copyFromContext(src, intoDir && !fs.statSync(path.join(ROOT, src)).isDirectory() ? path.join(host(dest), path.basename(src)) : host(dest));
          }
        }
      }
      if (step.op === 'RUN') {
        let cwd = workdir;
        for (const cmd of step.args.split('&&').map((c) => c.trim())) {
          const at = (p: string) => path.join(root(i), path.posix.resolve(cwd, p));
          if (cmd.startsWith('cd ')) cwd = path.posix.resolve(cwd, cmd.slice(3).trim());
          else if (/^apt-get\b|^rm -rf \/var\/lib\/apt\/lists/.test(cmd)) standIns.push(`${cmd} → this machine's toolchain`);
          else if (/^npm ci\b/.test(cmd)) {
            // Stand-in: the tree `npm ci` makes from this lockfile is this repo's node_modules.
            expect(fs.readFileSync(at('package-lock.json'), 'utf8')).toBe(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8'));
            linkTree(path.join(ROOT, 'node_modules'), at('node_modules'));
            const hidden = at('node_modules/.package-lock.json');
            fs.rmSync(hidden, { force: true }); // npm rewrites it: a copy, never the repo's inode
            if (fs.existsSync(path.join(ROOT, 'node_modules/.package-lock.json'))) fs.copyFileSync(path.join(ROOT, 'node_modules/.package-lock.json'), hidden);
            standIns.push(`${cmd} → hard links to the repo's node_modules (same lockfile)`);
          } else if (/^npm rebuild better-sqlite3\b/.test(cmd)) {
            expect(fs.existsSync(at('node_modules/better-sqlite3/build/Release/better_sqlite3.node'))).toBe(true);
            standIns.push(`${cmd} → the binding this machine's install compiled`);
          } else if (cmd === 'npm run build' && !process.env.AQ_IMAGE_FULL_BUILD) {
            // Stand-in (tsc takes 10–40 s on a loaded 2-core machine): the build's inputs are all
            // in the stage, and its output is the repo's dist/, built by `npm test` from them.
            const tsconfig = JSON.parse(fs.readFileSync(at('tsconfig.build.json'), 'utf8')) as { extends?: string; include: string[] };
            for (const input of ['scripts/build.mjs', tsconfig.extends ?? 'tsconfig.json', ...tsconfig.include]) expect(fs.existsSync(at(input)), input).toBe(true);
            linkTree(path.join(ROOT, 'dist'), at('dist'));
            standIns.push(`${cmd} → the repo's dist/ (AQ_IMAGE_FULL_BUILD=1 runs the real build)`);
          } else if (/^npm (run build|prune)\b/.test(cmd)) {
            execFileSync('sh', ['-c', cmd], { cwd: at('.'), env: { ...process.env, ...env, npm_config_offline: 'true' }, stdio: 'pipe' });
          } else if (cmd.startsWith('rm -rf ')) {
            for (const p of cmd.slice(7).trim().split(/\s+/)) {
              expect(p.startsWith('/') || p.includes('..'), `rm -rf ${p} stays inside the workdir`).toBe(false);
              fs.rmSync(at(p), { recursive: true, force: true });
            }
          } else if (cmd.startsWith('mkdir -p ')) for (const p of cmd.slice(9).trim().split(/\s+/)) fs.mkdirSync(at(p), { recursive: true });
          else if (cmd.startsWith('chown ')) {
            const [, , target] = cmd.split(/\s+/);
            if (runUid !== undefined) fs.chownSync(at(target!), runUid, runUid);
            standIns.push(`${cmd} → chown to uid ${runUid ?? process.getuid?.()}`);
          } else throw new Error(`no stand-in for RUN step "${cmd}": add one to docker.image.test.ts`);
        }
      }
    }
  });
  return { root, workdir, env, standIns };
}

describe('the Docker image', () => {
  it('is multi-stage on node:22-slim: toolchain only in the build stage, non-root runtime with VOLUME /data, EXPOSE 8700, a fetch HEALTHCHECK and an exec-form CMD', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.from).toBe('node:22-slim');
    expect(steps(stages[0]!, 'RUN').map((r) => r.args).join(' ')).toMatch(/apt-get install .*python3.*make.*g\+\+/);
    expect(steps(final, 'RUN').map((r) => r.args).join(' ')).not.toMatch(/apt-get|g\+\+|npm (ci|install)/);
    expect(last(final, 'USER')?.args).toBe('node');
    expect(steps(final, 'VOLUME').map((v) => v.args)).toContain('/data');
    expect(steps(final, 'EXPOSE').map((v) => v.args)).toContain('8700');
    const health = last(final, 'HEALTHCHECK')!;
    expect(health.exec?.slice(0, 2)).toEqual(['node', '-e']);
    expect(health.exec?.[2]).toMatch(/fetch\(.*\/healthz/);
    expect(health.args).not.toMatch(/curl|wget/);
    expect(last(final, 'CMD')?.exec).toEqual(['node', 'bin/asyncqueue.js', 'serve']);
    const env = Object.assign({}, ...steps(final, 'ENV').map((e) => envPairs(e.args)));
    expect(env).toMatchObject({ AQ_HOST: '0.0.0.0', AQ_DB: '/data/asyncqueue.db', NODE_ENV: 'production' });
  });

  it('.dockerignore leaves local state, dependencies, builds and tests out of the build context', () => {
    for (const p of ['node_modules/hono/package.json', 'dist/server.js', 'test/helpers/server.ts', '.git/HEAD', 'asyncqueue.db', 'src/x.db-wal', 'bench/run.mjs', '.env']) {
      expect(ignored(p), p).toBe(true);
    }
    for (const p of ['package.json', 'package-lock.json', 'src/server.ts', 'bin/asyncqueue.js', 'scripts/build.mjs']) expect(ignored(p), p).toBe(false);
  });

  it('replayed outside Docker, its build makes a runtime that serves, passes the HEALTHCHECK as a non-root user, and drains an attempt on SIGTERM', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aq-image-'));
    onTestFinished(() => fs.rmSync(dir, { recursive: true, force: true }));
    fs.chmodSync(dir, 0o755);
    const asRoot = process.getuid?.() === 0;
    const uid = asRoot ? 65534 : undefined; // nobody: the image's USER node is a non-root uid too
    if (asRoot) {
      const mask = process.umask(0o022); // the stand-in image must be readable by that user, as an image is
      onTestFinished(() => void process.umask(mask));
    }
    const image = build(dir, uid);
    const app = path.join(image.root(stages.length - 1), image.workdir);
    // Production dependencies only, and only the compiled binding of better-sqlite3.
    expect(fs.existsSync(path.join(app, 'node_modules/typescript'))).toBe(false);
    expect(fs.existsSync(path.join(app, 'node_modules/vitest'))).toBe(false);
    expect(fs.existsSync(path.join(app, 'node_modules/better-sqlite3/deps'))).toBe(false);
    expect(fs.readdirSync(path.join(app, 'node_modules/better-sqlite3/build/Release'))).toEqual(['better_sqlite3.node']);

    const volume = steps(final, 'VOLUME')[0]!.args;
    const hostVolume = path.join(image.root(stages.length - 1), volume);
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: hostVolume };
    for (const [k, v] of Object.entries(image.env)) env[k] = v.startsWith(volume + '/') ? path.join(hostVolume, v.slice(volume.length)) : v;
    env.AQ_PORT = '0'; // a free port here; `docker run -p` maps the image's 8700
    const [cmd, ...args] = last(final, 'CMD')!.exec!;
    const exe = (c: string) => (c === 'node' ? process.execPath : c);
    const start = () => {
      const proc = spawn(exe(cmd!), args, { cwd: app, env, uid, gid: uid, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      proc.stdout.on('data', (d) => (out += d));
      proc.stderr.on('data', (d) => (out += d));
      onTestFinished(() => void (proc.exitCode === null && proc.signalCode === null && proc.kill('SIGKILL')));
      const exited = new Promise<number | null>((r) => proc.on('exit', (code) => r(code)));
      const listening = new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not listening:\n${out}`)), 20_000);
        const check = () => {
          const m = /listening on http:\/\/[^:]+:(\d+)/.exec(out);
          if (m) (clearTimeout(timer), resolve(`http://127.0.0.1:${m[1]}`));
        };
        proc.stdout.on('data', check);
        proc.stderr.on('data', check);
        proc.on('exit', () => (clearTimeout(timer), reject(new Error(`exited:\n${out}`))));
      });
      return { proc, exited, listening, output: () => out };
    };
    const first = start();
    const base = await first.listening;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const [hc, ...hcArgs] = last(final, 'HEALTHCHECK')!.exec!;
    const health = spawnSync(exe(hc!), hcArgs, { cwd: app, env: { ...env, AQ_PORT: new URL(base).port }, uid, gid: uid, timeout: 10_000 });
    expect(health.status, String(health.stderr)).toBe(0);

    const target = await startTarget(() => ({ status: 200, body: { drained: true }, delayMs: 300 }));
    const res = await fetch(`${base}/v1/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ targetUrl: target.url }) });
    const task = (await res.json()) as { id: string };
    await target.waitForRequests(1);
    first.proc.kill('SIGTERM'); // what `docker stop` sends to PID 1
    expect(await first.exited).toBe(0);
    expect(first.output()).toMatch(/"msg":"stopped"/);
    expect(fs.existsSync(path.join(hostVolume, 'asyncqueue.db'))).toBe(true);
    if (uid !== undefined) expect(fs.statSync(path.join(hostVolume, 'asyncqueue.db')).uid).toBe(uid);

    // The volume outlives the container: a new one finds the task completed, not interrupted.
    const second = start();
    const again = await second.listening;
    const after = (await (await fetch(`${again}/v1/tasks/${task.id}`)).json()) as { status: string; attempts: number };
    expect(after).toMatchObject({ status: 'completed', attempts: 1 });
    second.proc.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(image.standIns.length).toBeGreaterThan(0);
  }, 60_000);
});
