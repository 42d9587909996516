// Copies a directory tree as hard links (instant, no extra disk), falling back to a real copy
// when the two paths are on different filesystems. For pre-seeding node_modules in ops tests.
import { execFileSync } from 'node:child_process';

/** `cp -al from to`, or `cp -a from to` where hard links cannot cross devices. */
export function linkTree(from: string, to: string): void {
  try {
    execFileSync('cp', ['-al', from, to], { stdio: 'pipe' });
  } catch {
    execFileSync('rm', ['-rf', to]);
    execFileSync('cp', ['-a', from, to], { stdio: 'pipe' });
  }
}
