// The CLI binary without a server: usage errors exit 2 with the command's help (a wrong value
// with one line pointing at it), an
// unreachable server exits 1 with one sentence, and every command's help has an example.
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/main.js';
import { closedUrl } from '../sdk/stub-server.js';
import { runCli } from './run-cli.js';

describe('usage errors exit 2 with help', () => {
  it.each([
    ['no command', []],
    ['an unknown command', ['frobnicate']],
    ['an unknown option', ['list', '--bogus']],
    ['a missing argument', ['get']],
    ['both a targetUrl and --file', ['enqueue', 'http://example.com', '--file', 'tasks.ndjson']],
    ['neither a targetUrl nor --file', ['enqueue']],
    ['cancel with neither id nor filter', ['cancel']],
    ['queues set with nothing to change', ['queues', 'set', 'emails']],
    ['an extra argument', ['stats', 'now']],
  ])('%s', async (_title, args) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/error|Usage:/);
    expect(r.stderr).toContain('Usage:');
  });

  // A wrong value: the error line says what is wrong, a pointer replaces the help that buried it.
  it.each([
    ['a non-numeric --retries', ['enqueue', 'http://example.com', '--retries', 'many'], 'asyncqueue enqueue'],
    ['a bad --status', ['list', '--status', 'done'], 'asyncqueue list'],
    ['a target that is not an http URL', ['enqueue', 'ftp://example.com/x'], 'asyncqueue enqueue'],
    ['a --payload that is not JSON', ['enqueue', 'http://example.com', '--payload', '{oops'], 'asyncqueue enqueue'],
    ['a bad queues set --concurrency', ['queues', 'set', 'q', '--concurrency', 'x'], 'asyncqueue queues set'],
  ])('%s exits 2 with one error line and a pointer to --help', async (_title, args, command) => {
    const r = await runCli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^error: /);
    expect(lines.at(-1)).toBe(`(see \`${command} --help\`)`);
    expect(lines.length).toBeLessThanOrEqual(3);
  });

  it('a bad --url', async () => {
    const r = await runCli(['stats', '--url', 'not a url']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --url must be an absolute URL such as http://127.0.0.1:8700, got "not a url"\n');
  });
});

describe('help and version', () => {
  const names: string[][] = [];
  for (const cmd of buildProgram().commands) {
    if (cmd.name() === 'serve') continue; // the server's own command, not the client's
    names.push([cmd.name()]);
    for (const sub of cmd.commands) names.push([cmd.name(), sub.name()]);
  }

  it.each(names)('`%s --help` exits 0 and shows an example', async (...path) => {
    const r = await runCli([...path, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage:');
    expect(r.stdout).toMatch(/Examples?:\n {2}\$ (aq|asyncqueue) /);
  });

  it('--version prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe('an unreachable server', () => {
  it('exits 1 with one sentence naming the URL', async () => {
    const url = await closedUrl();
    const r = await runCli(['list'], { env: { AQ_URL: url } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`error: cannot reach AsyncQueue at ${url} — is \`asyncqueue serve\` running?\n`);
  });

  it('says the same for --json and for watch', async () => {
    const url = await closedUrl();
    for (const args of [['stats', '--json'], ['watch']]) {
      const r = await runCli([...args, '--url', url]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`cannot reach AsyncQueue at ${url}`);
    }
  });
});
