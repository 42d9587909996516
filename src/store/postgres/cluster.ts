// SQL for the cluster on PostgreSQL (api.md §9): each node's heartbeat (database time) with the
// leader's lease in the same statement, the leader's rescue of dead nodes' running work, and the
// list of nodes for GET /v1/cluster. A node is dead once its heartbeat is older than the node
// timeout; the lease lasts one node timeout from its last renewal, so a dead leader is replaced
// within it and never shown as leader.
import type { TaskError } from '../../shared/types.js';
import type { ClusterNode, NodeBeat } from '../store.js';
import type { PgCtx } from './context.js';
import { firePending, interruptSql, INTERRUPTED_COUNTS, type PendingRow } from './interrupt.js';

// $1 id, $2 name, $3 started at (ms, this node's clock), $4 in flight, $5 timeout (ms), $6 first beat (a start)
const HEARTBEAT = `WITH now AS (SELECT aq_now_ms() AS ms),
  beat AS (
    INSERT INTO nodes AS n (id, name, started_at, heartbeat_at, in_flight) SELECT $1, $2, $3, now.ms, $4 FROM now
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, heartbeat_at = excluded.heartbeat_at, in_flight = excluded.in_flight,
      started_at = CASE WHEN $6::boolean THEN excluded.started_at ELSE n.started_at END
  ),
  lease AS (
    INSERT INTO leader AS l (id, node_id, expires_at) SELECT 1, $1, now.ms + $5 FROM now
    ON CONFLICT (id) DO UPDATE SET node_id = excluded.node_id, expires_at = excluded.expires_at
      WHERE l.node_id = excluded.node_id OR l.expires_at <= excluded.expires_at - $5
    RETURNING node_id
  )
  SELECT EXISTS (SELECT 1 FROM lease) AS leader, (SELECT ms FROM now) AS now`;

/** Renews this node's heartbeat and, when free or already ours, the leader's lease; true when this node leads. */
export async function heartbeat(ctx: PgCtx, b: NodeBeat, timeoutMs: number): Promise<{ leader: boolean; now: number }> {
  const [r] = await ctx.book.query<{ leader: boolean; now: number }>(HEARTBEAT, [b.id, b.name, b.startedAt, b.inFlight, timeoutMs, b.first], 'aq_heartbeat_node');
  return { leader: r?.leader ?? false, now: r?.now ?? 0 };
}

const INTERRUPTED: TaskError = { type: 'interrupted', message: 'the node running this attempt stopped answering (its heartbeat expired)' };

/**
 * The leader's rescue: running attempts (not open async ones, whose work is at the target) and
 * webhook deliveries being sent whose node is not alive are recorded `interrupted` and made
 * pending again, due now; nodes dead for long are forgotten. One statement; SKIP LOCKED leaves
 * rows another statement holds (a finish in progress) for the next round.
 */
export async function rescueDead(ctx: PgCtx, timeoutMs: number): Promise<{ tasks: number; deliveries: number; nodes: string[] }> {
  const [r] = await ctx.book.query<{ tasks: number; deliveries: number; nodes: string[] | null; events: PendingRow[] | null }>(
    `WITH now AS (SELECT aq_now_ms() AS ms),
     live AS (SELECT n.id FROM nodes n, now WHERE n.heartbeat_at > now.ms - $1),
     ${interruptSql((column) => `${column} NOT IN (SELECT id FROM live)`, { skipLocked: true })},
     dead AS (SELECT n.id FROM nodes n, now WHERE n.heartbeat_at <= now.ms - $1),
     forgotten AS (DELETE FROM nodes n USING now WHERE n.heartbeat_at <= now.ms - GREATEST($1 * 20, 600000) RETURNING n.id)
     SELECT ${INTERRUPTED_COUNTS}, (SELECT array_agg(id) FROM dead) AS nodes`,
    [timeoutMs, JSON.stringify(INTERRUPTED)],
    'aq_rescue_dead',
  );
  firePending(ctx, r?.events);
  return { tasks: r?.tasks ?? 0, deliveries: r?.deliveries ?? 0, nodes: r?.nodes ?? [] };
}

/** Every node the database knows, oldest first; `leader` only for a live node holding an unexpired lease. */
export async function listNodes(ctx: PgCtx, timeoutMs: number): Promise<ClusterNode[]> {
  const rows = await ctx.db.query<{ id: string; name: string; started_at: number; heartbeat_at: number; in_flight: number; leader: boolean; alive: boolean }>(
    `WITH now AS (SELECT aq_now_ms() AS ms)
     SELECT n.id, n.name, n.started_at, n.heartbeat_at, n.in_flight, n.heartbeat_at > now.ms - $1 AS alive,
       (n.heartbeat_at > now.ms - $1 AND EXISTS (SELECT 1 FROM leader l WHERE l.node_id = n.id AND l.expires_at > now.ms)) AS leader
     FROM nodes n, now ORDER BY n.started_at, n.id`,
    [timeoutMs],
    'aq_list_nodes',
  );
  return rows.map((r) => ({ id: r.id, name: r.name, startedAt: r.started_at, heartbeatAt: r.heartbeat_at, inFlight: r.in_flight, leader: r.leader, alive: r.alive }));
}

/** A node stopping: its row goes, and its lease if it held it (another node leads at its next heartbeat). */
export async function leave(ctx: PgCtx, id: string): Promise<void> {
  await ctx.db.query(`WITH l AS (DELETE FROM leader WHERE node_id = $1) DELETE FROM nodes WHERE id = $1`, [id]);
}
