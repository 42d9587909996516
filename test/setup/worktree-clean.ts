// Vitest global setup: the working copy must look the same after the suite as before it. Notes
// `git status --porcelain --ignored` (ignored files too: a stray ./asyncqueue.db is ignored by
// git but still a test writing into the repository) and a hash of every file it lists; the
// teardown fails the run if an entry appeared or went, or a listed file not ignored by git
// changed. Ignored files that were already there (the database and log of an `npm start` running
// in the same clone) may change: only their presence is compared.
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** Rewritten by every run (build output, vitest's own cache): not the tests' doing. */
const OWN = ['node_modules/', 'dist/'];

function snapshot(): Map<string, string> | undefined {
  let out: string;
  try {
    out = execFileSync('git', ['status', '--porcelain', '--ignored', '-z'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined; // not a git checkout (an unpacked tarball): nothing to compare
  }
  const seen = new Map<string, string>();
  for (const entry of out.split('\0')) {
    if (entry.length < 4) continue;
    const file = entry.slice(3);
    if (OWN.some((own) => file === own || file.startsWith(own))) continue;
    const full = path.join(ROOT, file);
    if (entry.startsWith('!! ')) {
      seen.set(entry, 'ignored');
      continue;
    }
    let digest = 'gone';
    try {
      const st = fs.statSync(full);
      digest = st.isDirectory() ? 'dir:' + fs.readdirSync(full, { recursive: true }).length : crypto.createHash('sha1').update(fs.readFileSync(full)).digest('hex');
    } catch {
      // deleted: keep 'gone'
    }
    seen.set(entry, digest);
  }
  return seen;
}

export default function setup(): () => void {
  const before = snapshot();
  return () => {
    if (!before) return;
    const after = snapshot()!;
    const changed: string[] = [];
    for (const [entry, digest] of after) if (before.get(entry) !== digest) changed.push(entry);
    for (const entry of before.keys()) if (!after.has(entry)) changed.push(entry + ' (no longer listed)');
    if (changed.length === 0) return;
    // A teardown's exception is printed but does not change vitest's exit code: set it here.
    process.exitCode = 1;
    throw new Error(`the tests changed the working copy (every test must write only into its temp dir):\n  ${changed.join('\n  ')}`);
  };
}
