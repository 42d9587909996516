// Spawns the real CLI binary (bin/asyncqueue.js → dist/cli/main.js; `npm run build` first)
// and collects its output and exit status. Streams stay pipes, so output is never a TTY.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { onTestFinished } from 'vitest';
import { hermeticEnv, tempDir } from '../helpers/temp.js';

export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/asyncqueue.js');

/** What a finished CLI run left. */
export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Options of a run: extra environment (AQ_URL…), text for standard input, the working directory (default: a temp dir). */
export interface CliOptions {
  env?: Record<string, string | undefined>;
  input?: string;
  cwd?: string;
}

/** Starts the CLI with `args` in a temp dir (or `opts.cwd`), without the caller's AQ_* variables; killed when the test finishes if it is still running. */
export function spawnCli(args: string[], opts: CliOptions = {}): ChildProcessWithoutNullStreams {
  if (!existsSync(new URL('../../dist/cli/main.js', import.meta.url))) throw new Error('dist/cli/main.js is missing: run `npm run build` first');
  const env = hermeticEnv({ NO_COLOR: '1', ...opts.env });
  const child = spawn(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? tempDir('aq-cli-'), env, stdio: 'pipe' });
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  child.stdin.end(opts.input ?? '');
  return child;
}

/** Runs the CLI to the end. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, opts);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
}

/** Resolves with the stdout lines seen so far once `predicate` holds for one of them. */
export function waitForLine(child: ChildProcessWithoutNullStreams, predicate: (line: string) => boolean): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let partial = '';
    const onData = (chunk: Buffer) => {
      partial += chunk.toString('utf8');
      const parts = partial.split('\n');
      partial = parts.pop()!;
      for (const line of parts) {
        lines.push(line);
        if (predicate(line)) {
          child.stdout.off('data', onData);
          return resolve(lines);
        }
      }
    };
    child.stdout.on('data', onData);
    child.once('close', (code) => reject(new Error(`CLI exited (${code}) before the expected line; saw:\n${lines.join('\n')}`)));
  });
}
