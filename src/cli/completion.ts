// `aq complete`, `aq fail` and `aq heartbeat`: end or keep alive the open attempt of an async
// task (api.md §10), with its completion token (--completion-token / AQ_COMPLETION_TOKEN) or
// the API token (--token), e.g. for a human approval or to unstick a task by hand.
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { contextOf, printJson, taskNotFound, withGlobals } from './context.js';
import { int } from './options.js';

function jsonValue(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('expected JSON, e.g. \'{"reportUrl":"https://…"}\' or \'"done"\'.');
  }
}

const tokenOption = () =>
  new Option('--completion-token <token>', "the attempt's AQ-Completion-Token (default: the API token, acting on the latest attempt)").env('AQ_COMPLETION_TOKEN');

/** Registers `complete`, `fail` and `heartbeat` on the program. */
export function registerCompletion(program: Command): void {
  const complete = program
    .command('complete')
    .description('complete the open attempt of an async task with a result')
    .argument('<id>', 'task id')
    .option('-r, --result <json>', 'the result, as JSON', jsonValue)
    .option('--result-file <file>', 'read the result (JSON) from a file')
    .option('--attempt <n>', 'the attempt meant (refused if it is not the open one)', int(1, 1_000_000))
    .addOption(tokenOption())
    .addHelpText('after', `\nExamples:\n  $ aq complete tsk_01JD8X3Q2M --result '{"approved":true}'\n  $ AQ_COMPLETION_TOKEN=aqc1.1.… aq complete tsk_01JD8X3Q2M --result-file out.json`);
  withGlobals(complete).action(async (id: string, f: { result?: unknown; resultFile?: string; attempt?: number; completionToken?: string }, command: Command) => {
    if (f.result !== undefined && f.resultFile) command.error('error: give --result or --result-file, not both', { exitCode: 2, code: 'aq.usage' });
    let result = f.result;
    if (f.resultFile) {
      try {
        result = JSON.parse(readFileSync(f.resultFile, 'utf8'));
      } catch (err) {
        command.error(`error: --result-file ${f.resultFile}: ${(err as Error).message}`, { exitCode: 2, code: 'aq.usage' });
      }
    }
    const ctx = contextOf(command);
    const task = await ctx.aq.tasks.complete(id, result ?? null, { token: f.completionToken, attempt: f.attempt }).catch(taskNotFound(id));
    if (ctx.json) return printJson(ctx, task);
    ctx.out.line(`completed ${task.id} (now ${ctx.out.status(task.status)})`);
  });

  const fail = program
    .command('fail')
    .description('fail the open attempt of an async task (retried by its backoff while retries remain)')
    .argument('<id>', 'task id')
    .option('-m, --message <text>', 'why it failed')
    .option('--no-retry', 'fail the task at once, whatever retries remain')
    .option('--attempt <n>', 'the attempt meant (refused if it is not the open one)', int(1, 1_000_000))
    .addOption(tokenOption())
    .addHelpText('after', `\nExamples:\n  $ aq fail tsk_01JD8X3Q2M --message 'render crashed'\n  $ aq fail tsk_01JD8X3Q2M --message 'rejected by reviewer' --no-retry`);
  withGlobals(fail).action(async (id: string, f: { message?: string; retry: boolean; attempt?: number; completionToken?: string }, command: Command) => {
    const ctx = contextOf(command);
    const task = await ctx.aq.tasks.fail(id, f.message ?? '', { token: f.completionToken, retry: f.retry, attempt: f.attempt }).catch(taskNotFound(id));
    if (ctx.json) return printJson(ctx, task);
    ctx.out.line(`failed attempt of ${task.id} (now ${ctx.out.status(task.status)})`);
  });

  const heartbeat = program
    .command('heartbeat')
    .description('keep the open attempt of an async task alive (moves its deadline)')
    .argument('<id>', 'task id')
    .option('--attempt <n>', 'the attempt meant', int(1, 1_000_000))
    .addOption(tokenOption())
    .addHelpText('after', '\nExample:\n  $ aq heartbeat tsk_01JD8X3Q2M');
  withGlobals(heartbeat).action(async (id: string, f: { attempt?: number; completionToken?: string }, command: Command) => {
    const ctx = contextOf(command);
    const answer = await ctx.aq.tasks.heartbeat(id, { token: f.completionToken, attempt: f.attempt }).catch(taskNotFound(id));
    if (ctx.json) return printJson(ctx, answer);
    ctx.out.line(`deadline of ${id} is now ${answer.deadline}`);
  });
}
