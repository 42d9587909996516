// `aq list`: one page of tasks, newest first, filtered by status, queue, label, schedule or a
// payload field (`--where jobId=42`, a bounded scan of the newest 10,000 per page).
import { InvalidArgumentError, type Command } from 'commander';
import { MAX_LIST_LIMIT, type ListTasksQuery, type TaskStatus } from '../shared/types.js';
import { contextOf, printJson, withGlobals } from './context.js';
import { ago, table } from './format.js';
import { int, status } from './options.js';

function where(v: string): [string, string] {
  const eq = v.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('give field=value, e.g. jobId=42');
  return [v.slice(0, eq), v.slice(eq + 1)];
}

/** Registers `list` on the program. */
export function registerList(program: Command): void {
  const cmd = program
    .command('list')
    .alias('ls')
    .description('list tasks, newest first')
    .option('-s, --status <status>', 'only tasks in this state', status)
    .option('-q, --queue <name>', 'only tasks of this queue')
    .option('-l, --label <label>', 'only tasks with this label')
    .option('--schedule <id>', 'only tasks created by this schedule')
    .option('-w, --where <field=value>', 'only tasks whose payload has this value at this field (a dot path: jobId, customer.id)', where)
    .option('-n, --limit <n>', `tasks per page, 1–${MAX_LIST_LIMIT} (default 50)`, int(1, MAX_LIST_LIMIT))
    .option('--cursor <cursor>', 'continue from a previous page')
    .addHelpText('after', '\nExamples:\n  $ aq list --status failed --queue emails\n  $ aq list --where jobId=8c1f2e\n  $ aq list --limit 500 --json | jq -r ".tasks[].id"');
  withGlobals(cmd).action(async (flags: { status?: TaskStatus; queue?: string; label?: string; schedule?: string; where?: [string, string]; limit?: number; cursor?: string }, command: Command) => {
    const ctx = contextOf(command);
    const query: ListTasksQuery = {
      status: flags.status, queue: flags.queue, label: flags.label, schedule: flags.schedule,
      payloadField: flags.where?.[0], payloadValue: flags.where?.[1], limit: flags.limit, cursor: flags.cursor,
    };
    const page = await ctx.aq.tasks.list(query);
    if (ctx.json) return printJson(ctx, page);
    const { out } = ctx;
    if (!page.tasks.length && !page.nextCursor) return out.line('no tasks');
    const now = Date.now();
    const rows = page.tasks.map((t) => [t.id, out.status(t.status), t.queue, `${t.attempts}/${t.retries + 1}`, ago(t.createdAt, now), `${t.method} ${t.targetUrl}`]);
    out.line(...table(['ID', 'STATUS', 'QUEUE', 'ATTEMPTS', 'CREATED', 'TARGET'], rows, { right: [3], paint: (h) => out.paint('bold', h) }));
    if (page.nextCursor) {
      const again = ['aq list', ...(['status', 'queue', 'label', 'schedule', 'limit'] as const).filter((k) => flags[k] !== undefined).map((k) => `--${k} ${flags[k]}`)];
      if (flags.where) again.push(`--where '${flags.where.join('=')}'`);
      if (!page.tasks.length) out.line(out.paint('dim', 'no match among the newest tasks searched; older ones may match'));
      out.line(out.paint('dim', `more: ${again.join(' ')} --cursor ${page.nextCursor}`));
    }
  });
}
