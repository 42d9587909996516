// `aq cluster`: the nodes sharing the server's database (api.md §9), with their heartbeats,
// attempts in flight and the leader; one node with SQLite.
import { Command } from 'commander';
import type { ClusterNodeView } from '../shared/types.js';
import { contextOf, printJson, withGlobals, type Context } from './context.js';
import { ago, count, table } from './format.js';

/** The human table of `aq cluster`; `now` (ms) for the heartbeat ages. */
export function clusterLines(ctx: Context, nodes: ClusterNodeView[], now: number): string[] {
  const { out } = ctx;
  if (nodes.length === 0) return ['no nodes known yet'];
  const rows = nodes.map((n) => [
    n.name,
    n.id,
    n.alive ? (n.leader ? out.paint('green', 'leader') : 'alive') : out.paint('red', 'dead'),
    ago(n.heartbeatAt, now),
    count(n.inFlight),
    n.startedAt,
  ]);
  return table(['NAME', 'ID', 'STATE', 'HEARTBEAT', 'IN FLIGHT', 'STARTED'], rows, { right: [4], paint: (h) => out.paint('bold', h) });
}

export function registerCluster(program: Command): void {
  const cmd = program
    .command('cluster')
    .description('the nodes sharing the server’s database: heartbeats, attempts in flight, the leader')
    .addHelpText('after', '\nExamples:\n  $ aq cluster\n  $ aq cluster --json | jq \'.nodes[] | select(.leader)\'');
  withGlobals(cmd).action(async (_flags: unknown, command: Command) => {
    const ctx = contextOf(command);
    const answer = await ctx.aq.cluster();
    if (ctx.json) return printJson(ctx, answer);
    ctx.out.line(...clusterLines(ctx, answer.nodes, Date.now()));
  });
}
