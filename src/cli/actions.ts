// `aq cancel`, `aq retry` (one task by id, or every task matching filters) and `aq delete`.
import { Command } from 'commander';
import type { BulkFilter, TaskStatus } from '../shared/types.js';
import { contextOf, printJson, taskNotFound, withGlobals } from './context.js';
import { count } from './format.js';
import { status } from './options.js';

export interface FilterFlags {
  status?: TaskStatus;
  queue?: string;
  label?: string;
  createdBefore?: string;
}

/** The bulk filter of the flags, or undefined when none was given. */
export function filterOf(f: FilterFlags): BulkFilter | undefined {
  const filter: BulkFilter = {};
  if (f.status) filter.status = f.status;
  if (f.queue) filter.queue = f.queue;
  if (f.label) filter.label = f.label;
  if (f.createdBefore) filter.createdBefore = f.createdBefore;
  return Object.keys(filter).length ? filter : undefined;
}

function registerBulkable(program: Command, verb: 'cancel' | 'retry', past: string, description: string, example: string): void {
  const cmd = program
    .command(verb)
    .description(description)
    .argument('[id]', 'task id (or use filters)')
    .option('-s, --status <status>', 'every task in this state', status)
    .option('-q, --queue <name>', 'every task of this queue')
    .option('-l, --label <label>', 'every task with this label')
    .option('--created-before <time>', 'every task created before this ISO-8601 time')
    .addHelpText('after', `\nExamples:\n${example}`);
  withGlobals(cmd).action(async (id: string | undefined, flags: FilterFlags, command: Command) => {
    const filter = filterOf(flags);
    if (id && filter) command.error('error: give a task id or filters, not both', { exitCode: 2, code: 'aq.usage' });
    if (!id && !filter) command.error('error: give a task id, or at least one filter (--status, --queue, --label, --created-before)', { exitCode: 2, code: 'aq.usage' });
    const ctx = contextOf(command);
    if (id) {
      const task = await ctx.aq.tasks[verb](id).catch(taskNotFound(id));
      if (ctx.json) return printJson(ctx, task);
      return ctx.out.line(`${past} ${task.id} (now ${ctx.out.status(task.status)})`);
    }
    const result = verb === 'cancel' ? await ctx.aq.tasks.cancelMany(filter!) : await ctx.aq.tasks.retryMany(filter!);
    if (ctx.json) return printJson(ctx, result);
    ctx.out.line(`${past} ${count(result.count)} task${result.count === 1 ? '' : 's'}`);
  });
}

/** Registers `cancel`, `retry` and `delete` on the program. */
export function registerActions(program: Command): void {
  registerBulkable(program, 'cancel', 'cancelled', 'cancel a pending or running task, or every task matching filters',
    '  $ aq cancel tsk_01JD8X3Q2M\n  $ aq cancel --queue emails --status pending');
  registerBulkable(program, 'retry', 'retried', 'retry a failed or cancelled task, or every task matching filters',
    '  $ aq retry tsk_01JD8X3Q2M\n  $ aq retry --status failed --queue emails');

  const del = program
    .command('delete')
    .alias('rm')
    .description('delete a task and its attempts (a running task is cancelled first)')
    .argument('<id>', 'task id')
    .addHelpText('after', '\nExample:\n  $ aq delete tsk_01JD8X3Q2M');
  withGlobals(del).action(async (id: string, _flags: unknown, command: Command) => {
    const ctx = contextOf(command);
    await ctx.aq.tasks.delete(id).catch(taskNotFound(id));
    if (ctx.json) return printJson(ctx, { id, deleted: true });
    ctx.out.line(`deleted ${id}`);
  });
}
