// `aq batch <id> [--wait] [--deliveries]`: a batch's counts by state (api.md §13), optionally
// waiting until every task of it has ended, with a progress bar on a TTY; or its batch.done
// webhook's delivery attempts (api.md §16). `aq redeliver <bat_…>` sends that webhook again.
import type { Command } from 'commander';
import type { Batch, Delivery } from '../shared/types.js';
import { batchNotFound, contextOf, printJson, withGlobals, type Context } from './context.js';
import { ago, duration, table } from './format.js';
import { seconds } from './options.js';
import { ProgressBar } from './progress.js';
import { errorText } from './wait.js';

/** How many of a batch's tasks have ended. */
export function endedOf(b: Batch): number {
  return b.counts.completed + b.counts.failed + b.counts.cancelled;
}

/** The key–value lines of a batch. */
export function batchLines(ctx: Context, b: Batch, now = Date.now()): string[] {
  const { out } = ctx;
  const rows: [string, string][] = [
    ['id', b.id],
    ['done', b.done ? out.paint('green', `yes, ${ago(b.doneAt!, now)}`) : 'no'],
    ['tasks', `${endedOf(b)} of ${b.total} ended`],
    ['counts', (['pending', 'running', 'completed', 'failed', 'cancelled'] as const).map((s) => `${out.status(s)} ${b.counts[s]}`).join('  ')],
    ['created', `${ago(b.createdAt, now)} (${b.createdAt})`],
  ];
  if (b.labels.length) rows.push(['labels', b.labels.join(', ')]);
  if (b.webhookUrl) {
    const w = b.webhook ? ` (${b.webhook.status}, ${b.webhook.attempts} attempt${b.webhook.attempts === 1 ? '' : 's'})` : '';
    rows.push(['webhook', b.webhookUrl + w]);
  }
  return rows.map(([k, v]) => `${out.paint('dim', k.padEnd(12))}${v}`);
}

/** The table of a batch's `batch.done` delivery attempts, oldest first. */
export function deliveryLines(ctx: Context, id: string, list: Delivery[], now = Date.now()): string[] {
  const rows = list.map((d) => [
    `${id}.${d.outcome}`,
    String(d.attempt),
    ago(d.startedAt, now),
    d.durationMs === null ? ctx.out.status('running') : duration(d.durationMs),
    d.status !== undefined ? String(d.status) : '-',
    d.error ? ctx.out.paint('red', errorText(d.error)) : d.durationMs === null ? '' : ctx.out.paint('green', 'ok'),
  ]);
  return table(['WEBHOOK-ID', 'ATTEMPT', 'STARTED', 'DURATION', 'STATUS', 'OUTCOME'], rows, { right: [1, 3], paint: (h) => ctx.out.paint('bold', h) });
}

/** Registers `batch` on the program. */
export function registerBatch(program: Command): void {
  const cmd = program
    .command('batch')
    .description("show a batch's tasks counted by state")
    .argument('<id>', 'batch id (bat_…), as POST /v1/tasks/batch answered')
    .option('-w, --wait [seconds]', 'first wait until every task of the batch has ended (for up to seconds); exit 1 unless all completed', seconds)
    .option('-d, --deliveries', "list the delivery attempts of the batch's batch.done webhook instead, oldest first")
    .addHelpText('after', '\nExamples:\n  $ aq batch bat_01JD8X3Q2M\n  $ aq batch bat_01JD8X3Q2M --wait\n  $ aq batch bat_01JD8X3Q2M --deliveries\n  $ aq redeliver bat_01JD8X3Q2M    # send its batch.done again');
  withGlobals(cmd).action(async (id: string, flags: { wait?: number | true; deliveries?: boolean }, command: Command) => {
    const ctx = contextOf(command);
    const notFound = batchNotFound(id);
    if (flags.deliveries) {
      if (flags.wait !== undefined) command.error('error: --deliveries lists the webhook deliveries; it does not wait (drop --wait)', { exitCode: 2, code: 'aq.usage' });
      const list = await ctx.aq.batches.deliveries(id).catch(notFound);
      if (ctx.json) return printJson(ctx, { deliveries: list });
      if (!list.length) return ctx.out.line(`batch ${id} has no webhook deliveries yet`);
      return ctx.out.line(...deliveryLines(ctx, id, list));
    }
    let batch = await ctx.aq.batches.get(id).catch(notFound);
    if (flags.wait !== undefined) {
      const bar = new ProgressBar(ctx.out.stderr, 'tasks ended', batch.total);
      // A long-poll answers when the batch is done; on a TTY it comes back each second to move the bar.
      const poll = ctx.out.stderr.isTTY ? 1 : 60;
      bar.update(endedOf(batch), endedOf(batch), true);
      batch = await ctx.aq.batches
        .wait(id, { timeout: flags.wait === true ? undefined : flags.wait, poll, onUpdate: (b) => bar.update(endedOf(b), endedOf(b), true) })
        .catch(notFound);
      bar.clear();
      // Exit 0 only when every task completed (one rule with `get --wait`).
      if (!batch.done || batch.counts.completed !== batch.total) process.exitCode = 1;
      if (!batch.done && !ctx.json) ctx.out.err(`${batch.id} is not done after waiting ${flags.wait === true ? '' : `${flags.wait}s `}(${endedOf(batch)} of ${batch.total} ended)`);
    }
    if (ctx.json) return printJson(ctx, batch);
    ctx.out.line(...batchLines(ctx, batch));
  });
}
