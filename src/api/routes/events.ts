// GET /v1/events: Server-Sent Events, one `task` event per state change (api.md §3).
// Events are buffered and written at most every 50 ms per client, so a burst costs few writes;
// a client that stops reading is dropped once MAX_BUFFER events wait for it, freeing its slot.
import type { OpenAPIHono } from '@hono/zod-openapi';
import { streamSSE } from 'hono/streaming';
import type { TaskEvent } from '../../shared/types.js';
import type { ApiDeps } from '../deps.js';
import { ApiError } from '../errors.js';

const FLUSH_MS = 50;
const HEARTBEAT_MS = 15_000;
/**
 * Events kept for a client before it is dropped (it reconnects and re-reads state). They pile up
 * only once the socket's buffers are full, i.e. when the client has stopped reading.
 */
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
      let closed = false;
      let wakeUp: (() => void) | undefined;
      let released = false;
      const release = () => {
        if (released) return;
        released = true;
        off();
        clients--;
      };
      // The loop may be stuck in a write the client never reads: the connection itself is
      // closed, which ends that write, and the slot is given back at once.
      const drop = () => {
        overflow = true;
        release();
        deps.log.warn('event stream dropped: the client stopped reading', { buffered: MAX_BUFFER });
        (c.env as { outgoing?: { destroy(): void } } | undefined)?.outgoing?.destroy();
        stream.abort();
        wakeUp?.();
      };
      const off = deps.events.on((e) => {
        if (overflow || (queue && e.queue !== queue) || (id && e.id !== id)) return;
        if (buffer.length >= MAX_BUFFER) return drop();
        buffer.push(e);
        wakeUp?.();
      });
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
        release();
      }
    });
  });
  return { clients: () => clients };
}
