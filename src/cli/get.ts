// `aq get <id>` (one task, optionally waiting for it) and `aq attempts <id>` (its attempt history).
import type { Command } from 'commander';
import type { Task } from '../shared/types.js';
import { contextOf, printJson, taskNotFound, withGlobals, type Context } from './context.js';
import { ago, brief, duration, table } from './format.js';
import { seconds } from './options.js';
import { isTerminal } from '../sdk/tasks.js';
import { attemptText, errorText, waitForTask } from './wait.js';

/** The key–value lines of a task. */
export function taskLines(ctx: Context, t: Task, now = Date.now()): string[] {
  const { out } = ctx;
  const when = (iso: string | null) => (iso ? `${ago(iso, now)} (${iso})` : '-');
  const rows: [string, string][] = [
    ['id', t.id],
    ['status', out.status(t.status)],
    ['queue', t.queue],
    ['target', `${t.method} ${t.targetUrl}`],
    ['attempts', `${t.attempts} of ${t.retries + 1}`],
    ['created', when(t.createdAt)],
    ['run at', when(t.runAt)],
  ];
  if (t.completedAt) rows.push(['finished', when(t.completedAt)]);
  if (t.priority) rows.push(['priority', String(t.priority)]);
  if (t.labels.length) rows.push(['labels', t.labels.join(', ')]);
  if (t.idempotencyKey) rows.push(['idempotency', t.idempotencyKey]);
  if (t.qstash) {
    const q = t.qstash;
    const kind = q.kind === 'message' ? 'message' : q.kind === 'callback' ? `callback of ${q.sourceMessageId}` : `failure callback of ${q.sourceMessageId}`;
    rows.push(['qstash', kind + (q.urlGroup ? ` (URL group ${q.urlGroup})` : '')]);
  }
  if (t.webhookUrl) {
    const w = t.webhook ? ` (${t.webhook.status}, ${t.webhook.attempts} attempt${t.webhook.attempts === 1 ? '' : 's'})` : '';
    rows.push(['webhook', t.webhookUrl + w]);
  }
  if (t.waiting) rows.push(['waiting', `${t.waiting.reason}: ${t.waiting.message}`]);
  if (t.awaiting) {
    const hb = t.awaiting.heartbeatAt ? `, last heartbeat ${ago(t.awaiting.heartbeatAt, now)}` : '';
    rows.push(['awaiting', `attempt ${t.awaiting.attempt} since ${ago(t.awaiting.since, now)}, deadline ${when(t.awaiting.deadline)}${hb}`]);
  }
  rows.push(['payload', brief(t.payload)]);
  if (t.error) rows.push(['error', out.paint('red', errorText(t.error))]);
  if (t.result !== null && t.result !== undefined) rows.push(['result', brief(t.result, 500)]);
  return rows.map(([k, v]) => `${out.paint('dim', k.padEnd(12))}${v}`);
}

/** Registers `get` and `attempts` on the program. */
export function registerGet(program: Command): void {
  const get = program
    .command('get')
    .description('show a task')
    .argument('<id>', 'task id')
    .option('-w, --wait [seconds]', 'first wait until the task is terminal (for up to seconds); exit 1 unless it completes', seconds)
    .addHelpText('after', '\nExamples:\n  $ aq get tsk_01JD8X3Q2M\n  $ aq get tsk_01JD8X3Q2M --wait 30 --json');
  withGlobals(get).action(async (id: string, flags: { wait?: number | true }, command: Command) => {
    const ctx = contextOf(command);
    let task = await ctx.aq.tasks.get(id).catch(taskNotFound(id));
    if (flags.wait !== undefined) {
      task = await waitForTask(ctx, task, flags.wait === true ? undefined : flags.wait);
      // One rule with `enqueue --wait`: exit 0 only when the task completed.
      if (task.status !== 'completed') process.exitCode = 1;
      if (!isTerminal(task) && !ctx.json) ctx.out.err(`${task.id} is still ${task.status} after waiting ${flags.wait === true ? '' : `${flags.wait}s `}(${attemptText(task)})`);
    }
    if (ctx.json) return printJson(ctx, task);
    ctx.out.line(...taskLines(ctx, task));
  });

  const attempts = program
    .command('attempts')
    .description("list a task's attempts, oldest first")
    .argument('<id>', 'task id')
    .addHelpText('after', '\nExample:\n  $ aq attempts tsk_01JD8X3Q2M');
  withGlobals(attempts).action(async (id: string, _flags: unknown, command: Command) => {
    const ctx = contextOf(command);
    const list = await ctx.aq.tasks.attempts(id).catch(taskNotFound(id));
    if (ctx.json) return printJson(ctx, { attempts: list });
    if (!list.length) return ctx.out.line(`task ${id} has no attempts yet`);
    const rows = list.map((a) => [
      String(a.n),
      ago(a.startedAt),
      a.durationMs === null ? ctx.out.status('running') : duration(a.durationMs),
      a.status ? String(a.status) : '-',
      a.error ? ctx.out.paint('red', errorText(a.error)) : a.durationMs === null ? '' : ctx.out.paint('green', 'ok'),
    ]);
    ctx.out.line(...table(['#', 'STARTED', 'DURATION', 'STATUS', 'OUTCOME'], rows, { right: [0, 2], paint: (h) => ctx.out.paint('bold', h) }));
  });
}
