// GET /v1/cluster (api.md §9) on one server: one node, alive, the leader, with ISO times and its
// live in-flight count; behind the token like every /v1 route; query strings change nothing.
import { describe, expect, it } from 'vitest';
import { startServer } from '../helpers/server.js';

describe('GET /v1/cluster', () => {
  it('lists this node as the one live leader', async () => {
    const s = await startServer({ nodeName: 'web-1' });
    const r = await s.api('/v1/cluster');
    expect(r.status).toBe(200);
    expect(r.body.nodes).toHaveLength(1);
    const [n] = r.body.nodes;
    expect(n).toMatchObject({ id: s.cluster.id, name: 'web-1', inFlight: 0, leader: true, alive: true });
    for (const f of ['startedAt', 'heartbeatAt']) expect(new Date(n[f]).toISOString()).toBe(n[f]);
  });

  it('needs the token, and ignores hostile query strings', async () => {
    const s = await startServer({ token: 'sekret' });
    expect((await s.api('/v1/cluster', { headers: { authorization: 'Bearer nope' } })).status).toBe(401);
    for (const q of ['?x=' + 'a'.repeat(5000), '?nodes[]=1&leader=%00', '?%ZZ']) {
      const r = await s.api('/v1/cluster' + q);
      expect(r.status, q).toBe(200);
      expect(r.body.nodes).toHaveLength(1);
    }
    expect((await s.api('/v1/cluster', { method: 'POST', body: {} })).status).toBeLessThan(500);
  });
});
