// GET /v1/cluster (api.md §9): the nodes sharing this store, with their heartbeats, attempts in
// flight and which one leads (never a dead one). One entry with SQLite.
import { createRoute, z, type OpenAPIHono } from '@hono/zod-openapi';
import { isoTime } from '../../shared/time.js';
import type { ApiDeps } from '../deps.js';
import { ErrorBodySchema, json } from '../schemas.js';

export const ClusterNodeSchema = z
  .object({
    id: z.string().describe('the node id (--node-id), recorded on the work it claims'),
    name: z.string().describe('the node name (--node-name, default the host name)'),
    startedAt: z.string().describe('when the node started (ISO-8601)'),
    heartbeatAt: z.string().describe('its last heartbeat, in the database’s time (ISO-8601)'),
    inFlight: z.number().int().describe('attempts in flight on the node (as of its last heartbeat; live for the node answering)'),
    leader: z.boolean().describe('the node runs schedules, retention and the rescue of dead nodes’ work; never true for a dead node'),
    alive: z.boolean().describe('its heartbeat is younger than --node-timeout; a dead node’s running attempts are retried by the others'),
  })
  .openapi('ClusterNode');

const route = createRoute({
  method: 'get', path: '/v1/cluster', tags: ['cluster'], summary: 'The nodes sharing this database, their heartbeats and the leader',
  responses: {
    200: json(z.object({ nodes: z.array(ClusterNodeSchema) }), 'the nodes, oldest first'),
    401: json(ErrorBodySchema, 'unauthorized'),
    503: json(ErrorBodySchema, 'unavailable'),
  },
});

export function registerClusterRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  app.openapi(route, async (c) => {
    const nodes = deps.cluster ? await deps.cluster() : [];
    return c.json({
      nodes: nodes.map((n) => ({
        id: n.id, name: n.name, startedAt: isoTime(n.startedAt), heartbeatAt: new Date(n.heartbeatAt).toISOString(), inFlight: n.inFlight, leader: n.leader && n.alive, alive: n.alive,
      })),
    }, 200);
  });
}
