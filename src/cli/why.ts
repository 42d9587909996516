// `aq why <id>`: why a task waits and what the queue will do with it (api.md §11), from
// GET /v1/tasks/:id and /plan.
import type { Command } from 'commander';
import type { Task, TaskPlan } from '../shared/types.js';
import { contextOf, printJson, taskNotFound, withGlobals, type Context } from './context.js';
import { ago, table } from './format.js';

/** The lines `why` prints for a task and its plan. */
export function whyLines(ctx: Context, task: Task, plan: TaskPlan, now = Date.now()): string[] {
  const { out } = ctx;
  const lines: string[] = [];
  const at = (iso: string) => `${iso} (${ago(iso, now)})`;
  lines.push(`${task.id} is ${out.status(task.status)}, attempt ${task.attempts} of ${task.retries + 1}`);
  if (plan.waiting) {
    lines.push(`waiting: ${out.paint('bold', plan.waiting.reason)}: ${plan.waiting.message}`);
    if (plan.waiting.until) lines.push(`until:   ${at(plan.waiting.until)}`);
  }
  if (task.awaiting) {
    lines.push(`awaiting completion of attempt ${task.awaiting.attempt} since ${at(task.awaiting.since)}`);
    lines.push(`deadline: ${at(task.awaiting.deadline)}; last heartbeat: ${task.awaiting.heartbeatAt ? at(task.awaiting.heartbeatAt) : 'none'}`);
  }
  if (task.status === 'running' && !task.awaiting) lines.push('an attempt is in flight');
  if (plan.attempts.length === 0 && plan.givesUpAt === null) {
    lines.push(task.status === 'running' ? 'no attempts remain after this one' : `nothing more will happen: the task is ${task.status}`);
    return lines;
  }
  if (plan.attempts.length > 0) {
    lines.push('', 'if every attempt fails:');
    const rows = plan.attempts.map((a) => [String(a.n), a.earliest, a.latest ?? 'unknown (queue paused)']);
    lines.push(...table(['ATTEMPT', 'EARLIEST START', 'LATEST START'], rows, { right: [0], paint: (h) => out.paint('bold', h) }));
  }
  lines.push(plan.givesUpAt ? `gives up by ${at(plan.givesUpAt)}` : 'gives up: unknown while the queue is paused');
  return lines;
}

/** Registers `why` on the program. */
export function registerWhy(program: Command): void {
  const why = program
    .command('why')
    .description('say why a task is waiting and when each remaining attempt would run')
    .argument('<id>', 'task id')
    .addHelpText('after', '\nExamples:\n  $ aq why tsk_01JD8X3Q2M\n  $ aq why tsk_01JD8X3Q2M --json');
  withGlobals(why).action(async (id: string, _flags: unknown, command: Command) => {
    const ctx = contextOf(command);
    const [task, plan] = await Promise.all([ctx.aq.tasks.get(id), ctx.aq.tasks.plan(id)]).catch(taskNotFound(id));
    if (ctx.json) return printJson(ctx, { task, plan });
    ctx.out.line(...whyLines(ctx, task, plan));
  });
}
