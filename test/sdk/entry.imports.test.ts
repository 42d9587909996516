// Importing "asyncqueue" (dist/index.js) loads no server code and no native module: a resolve
// hook in a child process refuses better-sqlite3, hono, undici and zod, and the CommonJS
// cache is checked too. Needs `npm run build` first (npm test does it).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const entry = path.join(root, 'dist', 'index.js');
const FORBIDDEN = /[\\/]node_modules[\\/](better-sqlite3|bindings|hono|@hono[\\/][^\\/]+|undici|zod)[\\/]/;

/** Runs `code` in a child node whose resolve hook throws on any forbidden package. */
function runGuarded(code: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'aq-imports-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(
    path.join(dir, 'hooks.mjs'),
    `export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  if (${FORBIDDEN}.test(r.url)) throw new Error('forbidden import: ' + r.url);
  return r;
}\n`,
  );
  writeFileSync(path.join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', pathToFileURL(path.join(dir, 'register.mjs')).href, '--input-type=module', '-e', code], { cwd: root }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the "asyncqueue" entry point', () => {
  it('is built (run `npm run build` first)', () => {
    expect(existsSync(entry), `${entry} is missing: run npm run build`).toBe(true);
  });

  it('loads no SQLite, Hono, undici or zod, and still exports the client', async () => {
    const code = `
      import { createRequire } from 'node:module';
      const m = await import(${JSON.stringify(pathToFileURL(entry).href)});
      const cjs = Object.keys(createRequire(import.meta.url).cache).filter((f) => ${FORBIDDEN}.test(f));
      console.log(JSON.stringify({ exports: Object.keys(m).sort(), cjs }));`;
    const r = await runGuarded(code);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { exports: string[]; cjs: string[] };
    expect(out.cjs).toEqual([]);
    expect(out.exports).toEqual(expect.arrayContaining(['AsyncQueue', 'AsyncQueueError', 'verifySignature', 'MAX_BATCH']));
  });

  it('uses a hook that does catch a forbidden import (the check is live)', async () => {
    const r = await runGuarded(`await import('hono');`);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('forbidden import');
  });
});
