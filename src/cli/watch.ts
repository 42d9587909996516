// `aq watch`: a live view of recent task changes and queue counts fed by GET /v1/events,
// redrawn at most 4 times a second on a TTY; one line per event otherwise, NDJSON with
// --json. Reconnects when the stream drops; Ctrl-C exits 0.
import type { Command } from 'commander';
import type { Queue, TaskEvent } from '../shared/types.js';
import { retryDelay } from '../sdk/request.js';
import { CliError, contextOf, describeError, withGlobals, type Context } from './context.js';
import { ago, table } from './format.js';
import { queueLines } from './stats.js';

const RECENT = 15;
const REDRAW_MS = 250;

/** Screen state of the live view: the latest event of each recent task, newest first. */
export class WatchView {
  recent: TaskEvent[] = [];
  queues: Queue[] = [];
  events = 0;
  connected = false;

  /** Records an event, keeping one row per task and at most `RECENT` rows. */
  add(ev: TaskEvent): void {
    this.events++;
    this.recent = [ev, ...this.recent.filter((e) => e.id !== ev.id)].slice(0, RECENT);
  }

  /** The lines of the full screen. */
  render(ctx: Context, now = Date.now()): string[] {
    const { out } = ctx;
    const state = this.connected ? out.paint('green', 'connected') : out.paint('yellow', 'reconnecting…');
    const head = `${out.paint('bold', 'AsyncQueue')} ${ctx.url}  ${state}  ${this.events} events  (Ctrl-C to quit)`;
    const rows = this.recent.map((e) => [e.id, out.status(e.status), e.queue, String(e.attempts), ago(e.at, now)]);
    const tasks = rows.length ? table(['TASK', 'STATUS', 'QUEUE', 'ATTEMPTS', 'CHANGED'], rows, { right: [3], paint: (h) => out.paint('bold', h) }) : ['waiting for task events…'];
    return [head, '', ...queueLines(ctx, this.queues), '', ...tasks];
  }
}

/** Registers `watch` on the program. */
export function registerWatch(program: Command): void {
  const cmd = program
    .command('watch')
    .description('live view of task changes and queue counts (Ctrl-C to quit)')
    .option('-q, --queue <name>', 'only tasks of this queue')
    .addHelpText('after', '\nExamples:\n  $ aq watch\n  $ aq watch --json | jq -c "select(.status == \\"failed\\")"');
  withGlobals(cmd).action(async (flags: { queue?: string }, command: Command) => {
    const ctx = contextOf(command);
    const stop = new AbortController();
    const onSigint = () => stop.abort();
    process.once('SIGINT', onSigint);
    process.once('SIGTERM', onSigint);
    try {
      await follow(ctx, stop.signal, flags.queue);
    } finally {
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigint);
    }
  });
}

async function follow(ctx: Context, signal: AbortSignal, queue: string | undefined): Promise<void> {
  const { out } = ctx;
  const screen = !ctx.json && Boolean(out.stdout.isTTY);
  const view = new WatchView();
  let dirty = false;
  let queuesDue = true;
  const redraw = () => {
    if (!screen || !dirty) return;
    dirty = false;
    // Home, each line cleared to its end, then the rest of the screen: no flicker.
    out.stdout.write('\x1b[H' + view.render(ctx).map((l) => l + '\x1b[K\n').join('') + '\x1b[J');
  };
  const refreshQueues = async () => {
    if (!screen || !queuesDue) return;
    queuesDue = false;
    const all = await ctx.aq.queues.list({ signal }).catch(() => view.queues);
    view.queues = queue ? all.filter((q) => q.name === queue) : all;
    dirty = true;
  };
  const timers = screen ? [setInterval(redraw, REDRAW_MS), setInterval(() => ((queuesDue = true), void refreshQueues()), 1000)] : [];
  if (screen) out.stdout.write('\x1b[?1049h\x1b[?25l');
  let failures = 0;
  let everOpen = false;
  try {
    await refreshQueues();
    while (!signal.aborted) {
      try {
        const onOpen = () => {
          everOpen = view.connected = dirty = true;
          failures = 0;
          // On stderr, so that scripts (and tests) know events from now on will be seen.
          if (!screen) out.stderr.write(`watching ${ctx.url}${queue ? ` queue ${queue}` : ''}\n`);
        };
        for await (const ev of ctx.aq.events({ signal, onOpen, queue })) {
          if (ctx.json) out.line(JSON.stringify(ev));
          else if (!screen) out.line(`${ev.at}  ${ev.id}  ${out.status(ev.status)}  queue ${ev.queue}  attempts ${ev.attempts}`);
          view.add(ev);
          dirty = true;
        }
      } catch (err) {
        if (signal.aborted) break;
        // The first connection must work; later drops are retried (the server may restart).
        if (!everOpen) throw new CliError(describeError(err, ctx.url));
      }
      if (signal.aborted) break;
      view.connected = false;
      dirty = true;
      failures++;
      if (!screen) out.stderr.write('event stream closed; reconnecting\n');
      await pause(retryDelay(Math.min(failures, 5)), signal);
    }
  } finally {
    for (const t of timers) clearInterval(t);
    if (screen) out.stdout.write('\x1b[?25h\x1b[?1049l');
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
