// tmpfs mounts for fault tests that need a real file system to fill or make read-only. Only
// where this process may mount (root on Linux, as in CI); tests skip themselves elsewhere.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { onTestFinished } from 'vitest';
import { tempDir } from '../helpers/temp.js';

let probed: boolean | undefined;

/** True when a tmpfs can be mounted here (checked once). */
export function canMount(): boolean {
  if (probed !== undefined) return probed;
  probed = false;
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return probed;
  const probe = fs.mkdtempSync(path.join(os.tmpdir(), 'aq-mount-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe], { stdio: 'ignore' });
    execFileSync('umount', [probe], { stdio: 'ignore' });
    probed = true;
  } catch {
    probed = false;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
  return probed;
}

/** Mounts a tmpfs of `size` (e.g. "2m") on a fresh temp dir; unmounted when the test ends. */
export function mountTmpfs(size: string): string {
  const dir = tempDir('aq-tmpfs-');
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  onTestFinished(() => execFileSync('umount', ['-l', dir]));
  return dir;
}

/** Remounts the tmpfs at `dir` read-only. */
export function remountReadOnly(dir: string): void {
  execFileSync('mount', ['-o', 'remount,ro', dir]);
}
