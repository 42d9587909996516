// `aq stats` (counts by state and queue, throughput) and `aq queues` (list, and `queues set`
// to change a queue's concurrency, rate or paused state, `queues delete`).
import { Command } from 'commander';
import { TASK_STATUSES, type Queue, type QueueUpdate, type Stats, type TaskStatus } from '../shared/types.js';
import { AsyncQueueError } from '../sdk/errors.js';
import { CliError, contextOf, printJson, withGlobals, type Context } from './context.js';
import { count, table } from './format.js';
import { limitOrNone, noneToNull } from './options.js';

function countCells(counts: Partial<Record<TaskStatus, number>>): string[] {
  return TASK_STATUSES.map((s) => count(counts[s] ?? 0));
}

const COUNT_HEADERS = TASK_STATUSES.map((s) => s.toUpperCase());

/** The human lines of `aq stats`. */
export function statsLines(ctx: Context, stats: Stats): string[] {
  const { out } = ctx;
  const totals = TASK_STATUSES.map((s) => `${out.status(s)} ${count(stats.counts[s] ?? 0)}`).join('   ');
  const lastMinute = stats.perMinute.at(-1);
  const lines = [totals, `in flight ${count(stats.inFlight)}`];
  if (lastMinute) lines.push(`last minute: ${count(lastMinute.dispatched)} dispatched, ${count(lastMinute.completed)} completed, ${count(lastMinute.failed)} failed`);
  const names = Object.keys(stats.queues).sort();
  if (names.length) {
    const rows = names.map((n) => [n, ...countCells(stats.queues[n]!)]);
    lines.push('', ...table(['QUEUE', ...COUNT_HEADERS], rows, { right: [1, 2, 3, 4, 5], paint: (h) => out.paint('bold', h) }));
  }
  return lines;
}

/** The human table of `aq queues`. */
export function queueLines(ctx: Context, queues: Queue[]): string[] {
  const { out } = ctx;
  if (!queues.length) return ['no queues yet (a queue is created by its first task)'];
  const rows = queues.map((q) => [
    q.name,
    q.paused ? out.paint('yellow', 'paused') : 'active',
    q.concurrency === null ? '-' : String(q.concurrency),
    q.ratePerSecond === null ? '-' : String(q.ratePerSecond),
    q.keyConcurrency == null ? '-' : String(q.keyConcurrency),
    ...countCells(q.counts),
  ]);
  return table(['QUEUE', 'STATE', 'CONCURRENCY', 'RATE/S', 'PER KEY', ...COUNT_HEADERS], rows, { right: [2, 3, 4, 5, 6, 7, 8, 9], paint: (h) => out.paint('bold', h) });
}

/** Registers `stats` and `queues` (with `queues set`) on the program. */
export function registerStats(program: Command): void {
  const stats = program
    .command('stats')
    .description('task counts by state and queue, and recent throughput')
    .addHelpText('after', '\nExamples:\n  $ aq stats\n  $ aq stats --json | jq .counts.failed');
  withGlobals(stats).action(async (_flags: unknown, command: Command) => {
    const ctx = contextOf(command);
    const answer = await ctx.aq.stats();
    if (ctx.json) return printJson(ctx, answer);
    ctx.out.line(...statsLines(ctx, answer));
  });

  const queues = program
    .command('queues')
    .description('list queues with their limits and task counts')
    .addHelpText('after', '\nExamples:\n  $ aq queues\n  $ aq queues set emails --concurrency 5 --rate 10\n  $ aq queues set emails --pause');
  withGlobals(queues).action(async (_flags: unknown, command: Command) => {
    const ctx = contextOf(command);
    const list = await ctx.aq.queues.list();
    if (ctx.json) return printJson(ctx, { queues: list });
    ctx.out.line(...queueLines(ctx, list));
  });

  const set = queues
    .command('set')
    .description("change a queue's limits; flags left out keep their value")
    .argument('<name>', 'queue name')
    .option('-c, --concurrency <n>', 'max attempts in flight, or "none"', limitOrNone)
    .option('-r, --rate <perSecond>', 'max dispatch starts per second, or "none"', limitOrNone)
    .option('-k, --key-concurrency <n>', 'max attempts in flight per concurrencyKey (keys take turns), or "none"', limitOrNone)
    .option('--pause', 'stop dispatching (new tasks are still accepted)')
    .option('--resume', 'dispatch again')
    .option('--create', 'create the queue if it does not exist yet (to set limits before its first task)')
    .addHelpText('after', '\nExamples:\n  $ aq queues set emails --concurrency 5 --rate none\n  $ aq queues set imports --key-concurrency 2\n  $ aq queues set emails --resume\n  $ aq queues set imports --create --concurrency 2');
  withGlobals(set).action(async (name: string, flags: { concurrency?: number | 'none'; rate?: number | 'none'; keyConcurrency?: number | 'none'; pause?: boolean; resume?: boolean; create?: boolean }, command: Command) => {
    if (flags.pause && flags.resume) command.error('error: give --pause or --resume, not both', { exitCode: 2, code: 'aq.usage' });
    const update: QueueUpdate = {};
    if (flags.concurrency !== undefined) update.concurrency = noneToNull(flags.concurrency);
    if (flags.rate !== undefined) update.ratePerSecond = noneToNull(flags.rate);
    if (flags.keyConcurrency !== undefined) update.keyConcurrency = noneToNull(flags.keyConcurrency);
    if (flags.pause || flags.resume) update.paused = Boolean(flags.pause);
    if (!Object.keys(update).length) command.error('error: nothing to change: give --concurrency, --rate, --key-concurrency, --pause or --resume', { exitCode: 2, code: 'aq.usage' });
    const ctx = contextOf(command);
    // A typo must not quietly make a new, empty queue (PUT creates one): only with --create.
    if (!flags.create && !(await ctx.aq.queues.list()).some((q) => q.name === name)) {
      throw new CliError(`queue ${name} does not exist; check the name (aq queues), or add --create to make it`);
    }
    const queue = await ctx.aq.queues.update(name, update);
    if (ctx.json) return printJson(ctx, queue);
    ctx.out.line(...queueLines(ctx, [queue]));
  });

  const del = queues
    .command('delete')
    .description('delete a queue that has no pending or running task (its finished tasks stay)')
    .argument('<name>', 'queue name')
    .addHelpText('after', '\nExample:\n  $ aq queues delete emails-old');
  withGlobals(del).action(async (name: string, _flags: unknown, command: Command) => {
    const ctx = contextOf(command);
    await ctx.aq.queues.delete(name).catch((err: unknown) => {
      if (err instanceof AsyncQueueError && err.code === 'not_found') throw new CliError(`queue ${name} not found`);
      throw err;
    });
    if (ctx.json) return printJson(ctx, { name, deleted: true });
    ctx.out.line(`deleted queue ${name}`);
  });
}
