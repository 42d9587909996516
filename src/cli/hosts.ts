// `aq hosts` (target origins with their circuit, limit and in-flight attempts, api.md §12) and
// `aq hosts reset <origin>` (close a circuit by hand).
import type { Command } from 'commander';
import type { Host } from '../shared/types.js';
import { contextOf, printJson, withGlobals, type Context } from './context.js';
import { table } from './format.js';

/** The human table of `aq hosts`. */
export function hostLines(ctx: Context, hosts: Host[]): string[] {
  const { out } = ctx;
  if (!hosts.length) return ['no origins yet (an origin is listed once the server dispatches to it)'];
  const rows = hosts.map((h) => [
    h.origin,
    h.state === 'closed' ? 'closed' : out.paint(h.state === 'open' ? 'red' : 'yellow', h.state),
    String(h.inFlight),
    h.limit === null ? '-' : String(h.limit),
    String(h.consecutiveFailures),
    h.openUntil ?? h.notBefore ?? '-',
    h.recentFailures[0]?.error ?? '-',
  ]);
  return table(['ORIGIN', 'CIRCUIT', 'IN FLIGHT', 'LIMIT', 'FAILURES', 'UNTIL', 'LAST FAILURE'], rows, { right: [2, 3, 4], paint: (x) => out.paint('bold', x) });
}

/** Registers `hosts` (with `hosts reset`) on the program. */
export function registerHosts(program: Command): void {
  const hosts = program
    .command('hosts')
    .description("target origins with their circuit breaker, limit and attempts in flight (the answering node's)")
    .addHelpText('after', '\nExamples:\n  $ aq hosts\n  $ aq hosts reset https://api.example.com');
  withGlobals(hosts).action(async (_flags: unknown, command: Command) => {
    const ctx = contextOf(command);
    const list = await ctx.aq.hosts.list();
    if (ctx.json) return printJson(ctx, { hosts: list });
    ctx.out.line(...hostLines(ctx, list));
  });
  const reset = hosts
    .command('reset')
    .description("close an origin's circuit by hand and lift its lowered limit")
    .argument('<origin>', 'the origin, e.g. https://api.example.com')
    .addHelpText('after', '\nExample:\n  $ aq hosts reset https://api.example.com');
  withGlobals(reset).action(async (origin: string, _flags: unknown, command: Command) => {
    const ctx = contextOf(command);
    const h = await ctx.aq.hosts.reset(origin);
    if (ctx.json) return printJson(ctx, h);
    ctx.out.line(...hostLines(ctx, [h]));
  });
}
