// What every client command shares: the global options (--url, --token, --json), the SDK
// client they make, the output sink, and turning failures into one sentence and an exit code.
import { Command, Option } from 'commander';
import { AsyncQueue, DEFAULT_URL } from '../sdk/client.js';
import { AsyncQueueError } from '../sdk/errors.js';
import { Output } from './format.js';

/** A failure the CLI reports as one sentence on stderr, exiting with `exitCode` (default 1). */
export class CliError extends Error {
  override name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** What a command's action works with. */
export interface Context {
  aq: AsyncQueue;
  /** True with --json: print the API's objects as JSON, nothing else on stdout. */
  json: boolean;
  out: Output;
  /** The server URL in use, for messages. */
  url: string;
}

/** Adds --url, --token and --json to a command (the program has them too, before the command name). */
export function withGlobals(cmd: Command): Command {
  return cmd
    .addOption(new Option('--url <url>', `server URL (default ${DEFAULT_URL})`).env('AQ_URL'))
    .addOption(new Option('--token <token>', 'bearer token of the server').env('AQ_TOKEN'))
    .option('--json', 'print machine-readable JSON (the API objects) instead of tables');
}

/** The context of a running command, from its own and the program's options. */
export function contextOf(cmd: Command, out = new Output()): Context {
  const opts = cmd.optsWithGlobals<{ url?: string; token?: string; json?: boolean }>();
  const url = opts.url || DEFAULT_URL;
  try {
    new URL(url);
  } catch {
    throw new CliError(`--url must be an absolute URL such as ${DEFAULT_URL}, got "${url}"`, 2);
  }
  return { aq: new AsyncQueue({ url, token: opts.token || undefined }), json: Boolean(opts.json), out, url: url.replace(/\/+$/, '') };
}

/** Prints a value as pretty JSON on stdout. */
export function printJson(ctx: Context, value: unknown): void {
  ctx.out.line(JSON.stringify(value, null, 2));
}

function detail(d: unknown): string {
  if (typeof d === 'string') return d;
  if (d && typeof d === 'object') {
    const rec = d as Record<string, unknown>;
    const where = Array.isArray(rec.path) ? rec.path.join('.') : typeof rec.path === 'string' ? rec.path : rec.field;
    const msg = typeof rec.message === 'string' ? rec.message : JSON.stringify(d);
    return where ? `${String(where)}: ${msg}` : msg;
  }
  return String(d);
}

/** One sentence for a failure, naming the server when it could not be reached. */
export function describeError(err: unknown, url: string): string {
  if (err instanceof AsyncQueueError) {
    if (err.code === 'unreachable') return `cannot reach AsyncQueue at ${url} — is \`asyncqueue serve\` running?`;
    if (err.code === 'timeout') return `AsyncQueue at ${url} did not answer in time`;
    if (err.status === 401) return `AsyncQueue at ${url} refused the token (${err.message}); set --token or AQ_TOKEN`;
    // The server's message often already names the first detail; add only the others.
    const extra = (err.details ?? []).map(detail).filter((d) => !err.message.includes(d.split(': ').pop()!));
    return extra.length ? `${err.message} (${extra.join('; ')})` : err.message;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

/** Turns a 404 of a task route into "task <id> not found". */
export function taskNotFound(id: string, what = 'task'): (err: unknown) => never {
  return (err) => {
    if (err instanceof AsyncQueueError && err.code === 'not_found') throw new CliError(`${what} ${id} not found`);
    throw err;
  };
}

/** The same for a batch id: `batch <id> not found`. */
export const batchNotFound = (id: string) => taskNotFound(id, 'batch');
