// Ceiling for an HTTP create route: a trivial Hono route on @hono/node-server
// that parses the JSON body and answers 201, like a create that stores nothing.
//   PORT=0 node bench/lib/hono-server.mjs   → prints {"listening": port}
import { Hono } from 'hono';
import { serve } from '@hono/node-server';

const app = new Hono();
let n = 0;
app.post('/v1/tasks', async (c) => {
  const body = await c.req.json();
  n++;
  return c.json({ id: `tsk_${n}`, status: 'pending', seq: body?.payload?.seq ?? null }, 201);
});
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT || 0), hostname: '127.0.0.1' }, (info) => {
  process.stdout.write(JSON.stringify({ listening: info.port }) + '\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
