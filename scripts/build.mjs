// Builds dist/ from src/: TypeScript, then the dashboard's static files.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
// Build into a fresh folder and swap it in at the end, so a running program never sees a
// half-built dist/.
const out = path.join(root, `dist.build-${process.pid}`);
rmSync(out, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', out], { stdio: 'inherit', cwd: root });
  const assets = path.join(root, 'src', 'dashboard', 'assets');
  if (existsSync(assets)) cpSync(assets, path.join(out, 'dashboard', 'assets'), { recursive: true });
  const old = path.join(root, `dist.old-${process.pid}`);
  if (existsSync(path.join(root, 'dist'))) renameSync(path.join(root, 'dist'), old);
  renameSync(out, path.join(root, 'dist'));
  rmSync(old, { recursive: true, force: true });
} catch (err) {
  rmSync(out, { recursive: true, force: true });
  throw err;
}
