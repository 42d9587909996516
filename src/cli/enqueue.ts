// `aq enqueue <targetUrl>`: creates one task from flags (or many with --file, see
// import.ts) and optionally waits for its outcome.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { CreateTaskInput, HttpMethod } from '../shared/types.js';
import { CliError, contextOf, printJson, withGlobals } from './context.js';
import { importFile } from './import.js';
import { collect, header, httpUrl, int, parseJson, readText, seconds } from './options.js';
import { reportOutcome, waitForTask } from './wait.js';

interface EnqueueFlags {
  payload?: string;
  payloadFile?: string;
  method?: HttpMethod;
  webhook?: string;
  retries?: number;
  timeout?: number;
  delay?: number;
  runAt?: string;
  queue?: string;
  priority?: number;
  label?: string[];
  header?: Record<string, string>;
  idempotencyKey?: string;
  key?: string;
  wait?: number | true;
  file?: string;
}

/** The task fields the flags set (everything but targetUrl and payload). */
export function inputFromFlags(f: EnqueueFlags): Partial<CreateTaskInput> {
  const input: Partial<CreateTaskInput> = {
    method: f.method,
    webhookUrl: f.webhook,
    retries: f.retries,
    timeout: f.timeout,
    delay: f.delay,
    runAt: f.runAt,
    queue: f.queue,
    priority: f.priority,
    labels: f.label,
    headers: f.header,
    idempotencyKey: f.idempotencyKey,
    concurrencyKey: f.key,
  };
  for (const k of Object.keys(input) as (keyof CreateTaskInput)[]) if (input[k] === undefined) delete input[k];
  return input;
}

async function payloadOf(f: EnqueueFlags): Promise<unknown> {
  if (f.payload !== undefined && f.payloadFile !== undefined) throw new InvalidArgumentError('use either --payload or --payload-file, not both.');
  const file = f.payload === '-' ? '-' : f.payloadFile;
  if (file === undefined) return f.payload === undefined ? undefined : parseJson(f.payload, '--payload');
  let text: string;
  try {
    text = await readText(file);
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return parseJson(text, file === '-' ? 'standard input' : file);
}

/** The optional argument after the URL: only `-` (the payload from standard input, api.md §8). */
function stdinDash(v: string): '-' {
  if (v !== '-') throw new InvalidArgumentError(`only - (the payload from standard input) may follow the URL; for a payload on the command line use --payload '${v}'`);
  return '-';
}

/** Registers `enqueue` on the program. */
export function registerEnqueue(program: Command): void {
  const cmd = program
    .command('enqueue')
    .description('create a task: POST a JSON payload to a URL, with retries')
    .argument('[targetUrl]', 'absolute http(s) URL the task is sent to', httpUrl)
    .argument('[-]', 'read the JSON payload from standard input (same as --payload -)', stdinDash)
    .option('-d, --payload <json>', 'JSON payload, or - to read it from standard input')
    .option('--payload-file <file>', 'read the JSON payload from a file (- for standard input)')
    .addOption(new Option('-X, --method <method>', 'HTTP method').choices(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']))
    .option('--webhook <url>', 'URL that receives the outcome', httpUrl)
    .option('--retries <n>', 'retries after the first attempt (default 3)', int(0, 100))
    .option('--timeout <seconds>', 'per-attempt timeout, e.g. 30 or 2m (default 30s)', seconds)
    .option('--delay <seconds>', 'first attempt not before now + delay, e.g. 90 or 5m', seconds)
    .option('--run-at <time>', 'first attempt not before this ISO-8601 time')
    .option('-q, --queue <name>', 'queue of the task (default "default")')
    .option('--priority <n>', 'priority from -100 to 100, higher runs first (default 0)', int(-100, 100))
    .option('-l, --label <label>', 'label for filtering (repeatable)', collect)
    .option('-H, --header <name:value>', 'header forwarded to the target (repeatable)', header)
    .option('--idempotency-key <key>', 'create at most one task for this key')
    .option('-k, --key <key>', "concurrency key, e.g. a tenant id: the queue's keyConcurrency caps each key, keys take turns")
    .option('-w, --wait [seconds]', 'wait for the outcome (for up to seconds); exit 1 unless it completes', seconds)
    .option('-f, --file <tasks.ndjson>', 'create many tasks, one JSON object per line (- for standard input); the flags above are defaults')
    .addHelpText(
      'after',
      `
Examples:
  $ aq enqueue https://example.com/hooks/email --payload '{"to":"ada@example.com"}' --retries 5
  $ echo '{"n":1}' | aq enqueue https://example.com/work - --wait 60
  $ aq enqueue --file tasks.ndjson --queue imports`,
    );
  withGlobals(cmd).action(async (targetUrl: string | undefined, dash: '-' | undefined, flags: EnqueueFlags, command: Command) => {
    const ctx = contextOf(command);
    const defaults = inputFromFlags(flags);
    if (flags.file !== undefined) {
      if (targetUrl !== undefined) command.error('error: give either a targetUrl or --file, not both', { exitCode: 2, code: 'aq.usage' });
      if (flags.wait !== undefined) command.error('error: --wait works with one task, not with --file', { exitCode: 2, code: 'aq.usage' });
      await importFile(ctx, flags.file, defaults);
      return;
    }
    if (targetUrl === undefined) command.error("error: missing required argument 'targetUrl' (or --file)", { exitCode: 2, code: 'aq.usage' });
    if (dash !== undefined) {
      if (flags.payload !== undefined || flags.payloadFile !== undefined) command.error('error: give the payload once: - or --payload or --payload-file', { exitCode: 2, code: 'aq.usage' });
      flags.payload = '-';
    }
    let payload: unknown;
    try {
      payload = await payloadOf(flags);
    } catch (err) {
      if (err instanceof InvalidArgumentError) command.error(`error: ${err.message}`, { exitCode: 2, code: 'aq.value' });
      throw err;
    }
    const input: CreateTaskInput = { targetUrl: targetUrl!, ...defaults };
    if (payload !== undefined) input.payload = payload;
    const started = Date.now();
    const task = await ctx.aq.tasks.create(input);
    if (flags.wait === undefined) {
      if (ctx.json) return printJson(ctx, task);
      ctx.out.line(`${task.id} ${ctx.out.status(task.status)} on queue ${task.queue}`);
      return;
    }
    const final = await waitForTask(ctx, task, flags.wait === true ? undefined : flags.wait);
    reportOutcome(ctx, final, Date.now() - started);
  });
}
