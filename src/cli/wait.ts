// Waiting for a task to finish on the command line: a live line on a TTY (state, attempt n
// of m, elapsed), then a summary; exit status 1 unless the task completed.
import type { Task } from '../shared/types.js';
import { isTerminal } from '../sdk/tasks.js';
import { type Context, printJson } from './context.js';
import { brief, duration } from './format.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/** "attempt 2 of 4": attempts started so far of retries + 1. */
export function attemptText(task: Task): string {
  return `attempt ${Math.max(1, task.attempts)} of ${task.retries + 1}`;
}

/**
 * Waits until the task is terminal or `limit` seconds pass (undefined = no limit), showing
 * a live line on stderr when it is a TTY and output is not --json. Returns the last state.
 */
export async function waitForTask(ctx: Context, task: Task, limit: number | undefined): Promise<Task> {
  const live = Boolean(ctx.out.stderr.isTTY) && !ctx.json;
  if (!live) return ctx.aq.tasks.waitFor(task.id, { timeout: limit });
  const started = Date.now();
  let last = task;
  let frame = 0;
  const draw = () => {
    const spin = ctx.out.paintErr('cyan', SPINNER[frame++ % SPINNER.length]!);
    const attempt = last.status === 'pending' && last.attempts === 0 ? 'waiting for attempt 1' : attemptText(last);
    ctx.out.stderr.write(`\r\x1b[2K${spin} ${last.id}  ${last.status} · ${attempt} · ${duration(Date.now() - started)}`);
  };
  const timer = setInterval(draw, 100);
  draw();
  // The line follows the task's own events (pending → running → retries) the moment they
  // happen; the long-poll only says when it is done. Without events it falls back to 1 s polls.
  const stop = new AbortController();
  let opened!: (ok: boolean) => void;
  const open = new Promise<boolean>((r) => (opened = r));
  const follow = (async () => {
    try {
      for await (const e of ctx.aq.events({ id: task.id, signal: stop.signal, onOpen: () => opened(true) })) {
        if (e.id === task.id && !isTerminal(last)) last = { ...last, status: e.status, attempts: e.attempts };
      }
    } catch {
      // no events (an old server, a proxy that buffers): the 1 s polls below keep the line moving
    } finally {
      opened(false);
    }
  })();
  try {
    const following = await open;
    // The state may have moved on before the stream opened: one read once it is open.
    if (following) last = await ctx.aq.tasks.get(task.id);
    return await ctx.aq.tasks.waitFor(task.id, { timeout: limit, poll: following ? undefined : 1, onUpdate: (t) => (last = t) });
  } finally {
    stop.abort();
    await follow;
    clearInterval(timer);
    ctx.out.stderr.write('\r\x1b[2K');
  }
}

/** Prints the outcome of a wait and sets the exit status: 0 for completed, 1 otherwise. */
export function reportOutcome(ctx: Context, task: Task, waitedMs: number): void {
  if (task.status !== 'completed') process.exitCode = 1;
  if (ctx.json) return printJson(ctx, task);
  const { out } = ctx;
  const attempts = `${task.attempts} attempt${task.attempts === 1 ? '' : 's'}`;
  if (task.status === 'completed') {
    out.line(`${task.id} ${out.status('completed')} after ${attempts} (${duration(waitedMs)})`);
    if (task.result !== null && task.result !== undefined) out.line(`result: ${brief(task.result, 500)}`);
  } else if (task.status === 'failed' || task.status === 'cancelled') {
    out.line(`${task.id} ${out.status(task.status)} after ${attempts} (${duration(waitedMs)})`);
    if (task.error) out.line(`error: ${errorText(task.error)}`);
  } else if (!isTerminal(task)) {
    out.line(`${task.id} is still ${out.status(task.status)} after ${duration(waitedMs)} (${attemptText(task)})`);
  }
}

/** "http 500: …" or "timeout: …" from a task's error. */
export function errorText(error: NonNullable<Task['error']>): string {
  const status = error.status ? ` ${error.status}` : '';
  return `${error.type}${status}: ${error.message}`;
}
