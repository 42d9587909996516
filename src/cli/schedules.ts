// `aq schedules list|get|create|pause|resume|delete|trigger`: recurring tasks from cron over the
// SDK's `schedules` resource. `create` upserts when given --id, so deploy scripts can repeat it.
import { Command, InvalidArgumentError, Option } from 'commander';
import { AsyncQueueError } from '../sdk/errors.js';
import type { CreateTaskInput, HttpMethod, Schedule, ScheduleCatchUp, ScheduleInput } from '../shared/types.js';
import { CliError, contextOf, printJson, withGlobals, type Context } from './context.js';
import { ago, table } from './format.js';
import { collect, header, httpUrl, int, parseJson, readText, seconds } from './options.js';

interface CreateFlags {
  id?: string;
  tz?: string;
  payload?: string;
  method?: HttpMethod;
  webhook?: string;
  retries?: number;
  timeout?: number;
  delay?: number;
  queue?: string;
  priority?: number;
  label?: string[];
  header?: Record<string, string>;
  catchUp?: ScheduleCatchUp;
  catchUpMax?: number;
  paused?: boolean;
  file?: string;
}

/** Turns a 404 of a schedule route into "schedule <id> not found". */
function scheduleNotFound(id: string): (err: unknown) => never {
  return (err) => {
    if (err instanceof AsyncQueueError && err.code === 'not_found') throw new CliError(`schedule ${id} not found`);
    throw err;
  };
}

function state(ctx: Context, s: Schedule): string {
  return s.paused ? ctx.out.paint('dim', 'paused') : ctx.out.paint('green', 'active');
}

function printSchedule(ctx: Context, s: Schedule): void {
  if (ctx.json) return printJson(ctx, s);
  const now = Date.now();
  const rows: [string, string][] = [
    ['id', s.id], ['cron', `${s.cron} (${s.timezone})`], ['state', state(ctx, s)],
    ['next', s.nextFireAt ? `${s.nextFireAt} (${ago(s.nextFireAt, now)})` : '-'],
    ['last', s.lastFireAt ? `${s.lastFireAt} (${ago(s.lastFireAt, now)})` : '-'],
    ['catch-up', s.catchUp === 'all' ? `all (at most ${s.catchUpMax})` : s.catchUp],
    ['target', `${s.task.method ?? 'POST'} ${s.task.targetUrl}`], ['queue', s.task.queue ?? 'default'],
  ];
  ctx.out.line(...rows.map(([k, v]) => `${ctx.out.paint('bold', k.padEnd(9))}${v}`));
}

/** The create body from flags, or from --file (a schedule body as JSON) with flags on top. */
async function bodyOf(cron: string | undefined, targetUrl: string | undefined, f: CreateFlags): Promise<ScheduleInput> {
  let base: Partial<ScheduleInput> = {};
  if (f.file !== undefined) {
    let text: string;
    try {
      text = await readText(f.file);
    } catch (err) {
      throw new CliError(`cannot read ${f.file}: ${(err as Error).message}`);
    }
    const parsed = parseJson(text, f.file === '-' ? 'standard input' : f.file);
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidArgumentError(`${f.file} must hold one JSON object (a schedule body).`);
    base = parsed as Partial<ScheduleInput>;
  }
  const task: Partial<CreateTaskInput> = { ...base.task };
  const set = <K extends keyof CreateTaskInput>(k: K, v: CreateTaskInput[K] | undefined) => v !== undefined && (task[k] = v);
  set('targetUrl', targetUrl);
  if (f.payload !== undefined) task.payload = parseJson(f.payload, '--payload');
  set('method', f.method);
  set('webhookUrl', f.webhook);
  set('retries', f.retries);
  set('timeout', f.timeout);
  set('delay', f.delay);
  set('queue', f.queue);
  set('priority', f.priority);
  set('labels', f.label);
  set('headers', f.header);
  const body: Partial<ScheduleInput> = { ...base, task: task as CreateTaskInput };
  if (cron !== undefined) body.cron = cron;
  if (f.id !== undefined) body.id = f.id;
  if (f.tz !== undefined) body.timezone = f.tz;
  if (f.catchUp !== undefined) body.catchUp = f.catchUp;
  if (f.catchUpMax !== undefined) body.catchUpMax = f.catchUpMax;
  if (f.paused) body.paused = true;
  if (!body.cron) throw new InvalidArgumentError('give a cron expression, e.g. "0 3 * * *" (or "cron" in --file).');
  if (!task.targetUrl) throw new InvalidArgumentError('give a target URL (or "task.targetUrl" in --file).');
  return body as ScheduleInput;
}

const usage = (cmd: Command) => (err: unknown) => {
  if (err instanceof InvalidArgumentError) cmd.error(`error: ${err.message}`, { exitCode: 2, code: 'aq.value' });
  throw err;
};

/** Registers `schedules` (alias `schedule`) and its subcommands on the program. */
export function registerSchedules(program: Command): void {
  const group = program.command('schedules').alias('schedule').description('recurring tasks from cron: list, get, create, pause, resume, delete, trigger')
    .addHelpText('after', '\nExamples:\n  $ aq schedules list\n  $ aq schedules create "0 3 * * *" https://example.com/report --id nightly-report');

  const list = group.command('list').alias('ls').description('list schedules with their next and last fire times')
    .addHelpText('after', '\nExamples:\n  $ aq schedules list\n  $ aq schedules list --json | jq -r ".schedules[].id"');
  withGlobals(list).action(async (_flags: unknown, command: Command) => {
    const ctx = contextOf(command);
    const schedules = await ctx.aq.schedules.list();
    if (ctx.json) return printJson(ctx, { schedules });
    if (!schedules.length) return ctx.out.line('no schedules');
    const now = Date.now();
    const rows = schedules.map((s) => [s.id, s.cron, s.timezone, state(ctx, s), ago(s.nextFireAt, now), ago(s.lastFireAt, now), `${s.task.method ?? 'POST'} ${s.task.targetUrl}`]);
    ctx.out.line(...table(['ID', 'CRON', 'ZONE', 'STATE', 'NEXT', 'LAST', 'TARGET'], rows, { paint: (h) => ctx.out.paint('bold', h) }));
  });

  const get = group.command('get').description('show one schedule').argument('<id>', 'schedule id')
    .addHelpText('after', '\nExample:\n  $ aq schedules get nightly-report');
  withGlobals(get).action(async (id: string, _flags: unknown, command: Command) => {
    const ctx = contextOf(command);
    printSchedule(ctx, await ctx.aq.schedules.get(id).catch(scheduleNotFound(id)));
  });

  const create = group
    .command('create')
    .description('create a schedule, or replace the one with the same --id')
    .argument('[cron]', 'cron expression: 5 fields, or 6 with seconds first (quote it)')
    .argument('[targetUrl]', 'absolute http(s) URL each firing is sent to', httpUrl)
    .option('--id <id>', 'schedule id ([A-Za-z0-9_.-], up to 64); an existing one is replaced')
    .option('--tz <zone>', 'IANA time zone the expression is read in (default UTC)')
    .option('-d, --payload <json>', 'JSON payload of each task')
    .addOption(new Option('-X, --method <method>', 'HTTP method').choices(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']))
    .option('--webhook <url>', 'URL that receives each outcome', httpUrl)
    .option('--retries <n>', 'retries after the first attempt (default 3)', int(0, 100))
    .option('--timeout <seconds>', 'per-attempt timeout, e.g. 30 or 2m', seconds)
    .option('--delay <seconds>', 'first attempt this long after each fire time', seconds)
    .option('-q, --queue <name>', 'queue of the tasks (default "default")')
    .option('--priority <n>', 'priority from -100 to 100', int(-100, 100))
    .option('-l, --label <label>', 'label of each task (repeatable)', collect)
    .option('-H, --header <name:value>', 'header forwarded to the target (repeatable)', header)
    .addOption(new Option('--catch-up <rule>', 'missed fire times after a stop (default latest)').choices(['none', 'latest', 'all']))
    .option('--catch-up-max <n>', 'most missed fire times --catch-up all fires (default 10)', int(1, 1000))
    .option('--paused', 'create it paused')
    .option('-f, --file <schedule.json>', 'read the schedule body from a JSON file (- for standard input); flags override it')
    .addHelpText('after', `
Examples:
  $ aq schedules create "0 3 * * *" https://example.com/report --id nightly-report --tz Europe/Berlin
  $ aq schedules create "*/10 * * * * *" https://example.com/ping --id ping --catch-up none
  $ aq schedules create --file nightly.json`);
  withGlobals(create).action(async (cron: string | undefined, targetUrl: string | undefined, flags: CreateFlags, command: Command) => {
    const body = await bodyOf(cron, targetUrl, flags).catch(usage(command));
    const ctx = contextOf(command);
    const s = await ctx.aq.schedules.upsert(body);
    if (ctx.json) return printJson(ctx, s);
    // A replaced schedule's updatedAt is always later than its createdAt.
    ctx.out.line(`${s.updatedAt === s.createdAt ? 'created' : 'updated'} schedule ${s.id}; next fire ${s.nextFireAt ?? '- (paused)'}`);
  });

  for (const [verb, past] of [['pause', 'paused'], ['resume', 'resumed']] as const) {
    const cmd = group.command(verb).description(verb === 'pause' ? 'stop firing a schedule' : 'fire a paused schedule again, from now on').argument('<id>', 'schedule id')
      .addHelpText('after', `\nExample:\n  $ aq schedules ${verb} nightly-report`);
    withGlobals(cmd).action(async (id: string, _flags: unknown, command: Command) => {
      const ctx = contextOf(command);
      const s = await ctx.aq.schedules[verb](id).catch(scheduleNotFound(id));
      if (ctx.json) return printJson(ctx, s);
      ctx.out.line(`${past} schedule ${s.id}${s.nextFireAt ? `; next fire ${s.nextFireAt}` : ''}`);
    });
  }

  const del = group.command('delete').alias('rm').description('delete a schedule (the tasks it made stay)').argument('<id>', 'schedule id')
    .addHelpText('after', '\nExample:\n  $ aq schedules delete nightly-report');
  withGlobals(del).action(async (id: string, _flags: unknown, command: Command) => {
    const ctx = contextOf(command);
    await ctx.aq.schedules.delete(id).catch(scheduleNotFound(id));
    if (ctx.json) return printJson(ctx, { id, deleted: true });
    ctx.out.line(`deleted schedule ${id}`);
  });

  const trigger = group.command('trigger').description('run a schedule now: create one task').argument('<id>', 'schedule id')
    .addHelpText('after', '\nExample:\n  $ aq schedules trigger nightly-report --json');
  withGlobals(trigger).action(async (id: string, _flags: unknown, command: Command) => {
    const ctx = contextOf(command);
    const task = await ctx.aq.schedules.trigger(id).catch(scheduleNotFound(id));
    if (ctx.json) return printJson(ctx, task);
    ctx.out.line(`triggered schedule ${id}: task ${task.id}`);
  });
}
