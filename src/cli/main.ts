// The `asyncqueue` / `aq` program: registers every command, runs one, and maps the result
// to an exit status — 0 success, 1 failure (one sentence on stderr), 2 usage error (with help).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { DEFAULT_URL } from '../sdk/client.js';
import { registerActions } from './actions.js';
import { registerBatch } from './batch.js';
import { registerCompletion } from './completion.js';
import { CliError, describeError, withGlobals } from './context.js';
import { registerDoctor } from './doctor.js';
import { registerCluster } from './cluster.js';
import { registerEnqueue } from './enqueue.js';
import { registerGet } from './get.js';
import { registerHosts } from './hosts.js';
import { registerList } from './list.js';
import { registerRedeliver } from './redeliver.js';
import { registerSchedules } from './schedules.js';
import { registerSecret } from './secret.js';
import { registerServe } from './serve.js';
import { registerStats } from './stats.js';
import { registerTransfer } from './transfer.js';
import { registerWatch } from './watch.js';
import { registerWhy } from './why.js';

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** The program with every command registered; `name` is how the user called it (`aq` or `asyncqueue`). */
export function buildProgram(name = 'asyncqueue'): Command {
  const program = new Command(name)
    .description('AsyncQueue: a self-hosted HTTP task queue. Run the server with `serve`; the other commands talk to it.')
    .version(version(), '-v, --version')
    .enablePositionalOptions()
    .exitOverride();
  withGlobals(program).addHelpText(
    'after',
    `
Examples:
  $ ${name} serve --port 8700
  $ ${name} enqueue https://example.com/work --payload '{"id":42}' --wait
  $ ${name} list --status failed

Environment: AQ_URL (default ${DEFAULT_URL}) and AQ_TOKEN set --url and --token; NO_COLOR turns colour off.`,
  );
  registerServe(program);
  registerEnqueue(program);
  registerGet(program);
  registerBatch(program);
  registerList(program);
  registerActions(program);
  registerRedeliver(program);
  registerCompletion(program);
  registerWhy(program);
  registerStats(program);
  registerHosts(program);
  registerWatch(program);
  registerSchedules(program);
  registerDoctor(program);
  registerCluster(program);
  registerTransfer(program);
  registerSecret(program);
  for (const cmd of [program, ...program.commands, ...program.commands.flatMap((c) => c.commands)]) helpAfterError(cmd);
  return program;
}

/** Errors of a value given (not JSON, not a URL, not a number): the line says what is wrong; help would bury it. */
const VALUE_ERRORS = new Set(['commander.invalidArgument', 'commander.optionMissingArgument', 'aq.value']);

/**
 * After a usage error: the command's help when the command line itself is wrong (unknown
 * command or option, missing argument), one line pointing at --help when only a value is.
 */
function helpAfterError(cmd: Command): void {
  cmd.exitOverride((err) => {
    if (err.exitCode !== 0 && err.code !== 'commander.help' && err.code !== 'commander.helpDisplayed' && err.code !== 'commander.version') {
      if (VALUE_ERRORS.has(err.code)) process.stderr.write(`(see \`${commandPath(cmd)} --help\`)\n`);
      else cmd.outputHelp({ error: true });
    }
    throw err;
  });
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * Runs the CLI on `argv` (as in process.argv) and resolves with the exit status, printing
 * errors to stderr. `ran.command` is set to the name of the command whose action ran.
 */
export async function run(argv: string[], ran: { command?: string } = {}): Promise<number> {
  const program = buildProgram(path.basename(argv[1] ?? '') === 'aq' ? 'aq' : 'asyncqueue');
  let url = DEFAULT_URL;
  program.hook('preAction', (_program, action) => {
    ran.command = action.name();
    url = (action.optsWithGlobals<{ url?: string }>().url || DEFAULT_URL).replace(/\/+$/, '');
  });
  process.exitCode = undefined;
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and --version exit 0; every other commander error is a usage error.
      return err.exitCode === 0 ? 0 : 2;
    }
    const message = err instanceof CliError ? err.message : describeError(err, url);
    process.stderr.write(`error: ${message}\n`);
    return err instanceof CliError ? err.exitCode : 1;
  }
}

/** Entry point of bin/asyncqueue.js: runs the CLI and exits once stdout and stderr are flushed. */
export async function main(argv: string[]): Promise<void> {
  for (const stream of [process.stdout, process.stderr]) {
    // `aq list | head`: a closed pipe is not an error of ours.
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const ran: { command?: string } = {};
  const code = await run(argv, ran);
  // The server keeps running after its action returns, until a signal stops it.
  if (ran.command === 'serve' && code === 0) return;
  let pending = 2;
  const done = () => {
    if (--pending === 0) process.exit(code);
  };
  process.stdout.write('', done);
  process.stderr.write('', done);
}
