// GET /v1/events: Server-Sent Events, one `task` event per state change (api.md §3).
// Events are buffered and written at most every 50 ms per client, so a burst costs few writes.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { TaskEvent } from '../../shared/types.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';

const FLUSH_MS = 50;
const HEARTBEAT_MS = 15_000;
/** Events kept for a slow client before it is dropped (it reconnects and re-reads state). */
const MAX_BUFFER = 10_000;

export function registerEventRoutes(app: OpenAPIHono, deps: ApiDeps): { clients: () => number } {
  let clients = 0;
  app.get('/v1/events', (c) => {
    if (clients >= deps.maxSseClients) throw new ApiError(503, 'unavailable', `too many open event streams (max ${deps.maxSseClients})`);
    const queue = c.req.query('queue');
    const id = c.req.query('id');
    clients++;
    c.header('Cache-Control', 'no-cache');
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (stream) => {
      let buffer: TaskEvent[] = [];
      let overflow = false;
      let wakeUp: (() => void) | undefined;
      const off = deps.events.on((e) => {
        if ((queue && e.queue !== queue) || (id && e.id !== id)) return;
        if (buffer.length >= MAX_BUFFER) overflow = true;
        else buffer.push(e);
        wakeUp?.();
      });
      let closed = false;
      stream.onAbort(() => {
        closed = true;
        wakeUp?.();
      });
      try {
        await stream.writeSSE({ event: 'ready', data: JSON.stringify({ at: new Date(deps.clock.now()).toISOString() }) });
        let lastWrite = Date.now();
        while (!closed && !overflow) {
          if (buffer.length === 0) {
            await new Promise<void>((r) => {
              wakeUp = r;
              setTimeout(r, HEARTBEAT_MS).unref?.();
            });
            wakeUp = undefined;
            if (buffer.length === 0 && !closed && Date.now() - lastWrite >= HEARTBEAT_MS - 10) {
              await stream.write(': heartbeat\n\n');
              lastWrite = Date.now();
            }
            continue;
          }
          await stream.sleep(FLUSH_MS);
          const batch = buffer;
          buffer = [];
          let out = '';
          for (const e of batch) out += `event: task\ndata: ${JSON.stringify(e)}\n\n`;
          await stream.write(out);
          lastWrite = Date.now();
        }
      } finally {
        off();
        clients--;
      }
    });
  });
  return { clients: () => clients };
}
