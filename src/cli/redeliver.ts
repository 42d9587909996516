// `aq redeliver`: sends a task's latest outcome to its webhookUrl again (same webhook-id, fresh
// webhookRetries), or does so for every completed or failed task matching filters. A batch id
// (bat_…) sends that batch's latest batch.done again (api.md §13): one verb for every webhook.
import { Command, InvalidArgumentError } from 'commander';
import { isBatchId } from '../shared/ids.js';
import type { RedeliverFilter, WebhookState } from '../shared/types.js';
import { filterOf, type FilterFlags } from './actions.js';
import { batchNotFound, contextOf, printJson, taskNotFound, withGlobals } from './context.js';
import { count } from './format.js';

const WEBHOOK_STATUSES = ['pending', 'delivered', 'failed'];

function webhookStatus(v: string): WebhookState['status'] {
  if (!WEBHOOK_STATUSES.includes(v)) throw new InvalidArgumentError(`must be one of ${WEBHOOK_STATUSES.join(', ')}`);
  return v as WebhookState['status'];
}

function terminalStatus(v: string): 'completed' | 'failed' {
  if (v !== 'completed' && v !== 'failed') throw new InvalidArgumentError('must be completed or failed (only they have an outcome to deliver)');
  return v;
}

export function registerRedeliver(program: Command): void {
  const cmd = program
    .command('redeliver')
    .description("send a task's outcome webhook (or a batch's batch.done) again, or every task's matching filters (e.g. --webhook-status failed)")
    .argument('[id]', 'task id, or batch id (bat_…) for its batch.done webhook (or use filters)')
    .option('-w, --webhook-status <state>', 'every task whose webhook is in this state: pending, delivered or failed', webhookStatus)
    .option('-s, --status <status>', 'every task in this state: completed or failed', terminalStatus)
    .option('-q, --queue <name>', 'every task of this queue')
    .option('-l, --label <label>', 'every task with this label')
    .option('--created-before <time>', 'every task created before this ISO-8601 time')
    .addHelpText('after', '\nExamples:\n  $ aq redeliver tsk_01JD8X3Q2M\n  $ aq redeliver bat_01JD8X3Q2M\n  $ aq redeliver --webhook-status failed --queue reports');
  withGlobals(cmd).action(async (id: string | undefined, flags: FilterFlags & { webhookStatus?: WebhookState['status'] }, command: Command) => {
    const base = filterOf(flags);
    const filter: RedeliverFilter | undefined = flags.webhookStatus ? { ...base, webhookStatus: flags.webhookStatus } : base;
    if (id && filter) command.error('error: give a task id or filters, not both', { exitCode: 2, code: 'aq.usage' });
    if (!id && !filter) command.error('error: give a task id, or at least one filter (--webhook-status, --status, --queue, --label, --created-before)', { exitCode: 2, code: 'aq.usage' });
    const ctx = contextOf(command);
    if (id && isBatchId(id)) {
      const batch = await ctx.aq.batches.redeliver(id).catch(batchNotFound(id));
      if (ctx.json) return printJson(ctx, batch);
      return ctx.out.line(`re-delivering the batch.done of ${batch.id} to ${batch.webhookUrl}`);
    }
    if (id) {
      const task = await ctx.aq.tasks.redeliver(id).catch(taskNotFound(id));
      if (ctx.json) return printJson(ctx, task);
      return ctx.out.line(`re-delivering the ${task.status} outcome of ${task.id} to ${task.webhookUrl}`);
    }
    const result = await ctx.aq.tasks.redeliverMany(filter!);
    if (ctx.json) return printJson(ctx, result);
    ctx.out.line(`re-delivering ${count(result.count)} outcome${result.count === 1 ? '' : 's'}`);
  });
}
