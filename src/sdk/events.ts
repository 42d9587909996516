// Reads the `GET /v1/events` Server-Sent Events stream (event `task`, data = TaskEvent JSON)
// as an async iterator. Parsing follows the WHATWG EventSource rules for the parts used here.
import type { TaskEvent } from '../shared/types.js';
import { AsyncQueueError } from './errors.js';
import type { Requester } from './request.js';

/** One parsed Server-Sent Event. */
export interface SseMessage {
  event: string;
  data: string;
  id?: string;
}

/** Splits a stream of text chunks into SSE messages; comments and retry fields are dropped. */
export async function* parseSse(chunks: AsyncIterable<string>): AsyncGenerator<SseMessage> {
  let buffer = '';
  let event = '';
  let data: string[] = [];
  let id: string | undefined;
  for await (const chunk of chunks) {
    buffer += chunk;
    let nl: number;
    while ((nl = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + (buffer.startsWith('\r\n', nl) ? 2 : 1));
      if (line === '') {
        if (data.length) yield { event: event || 'message', data: data.join('\n'), id };
        event = '';
        data = [];
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
    }
  }
}

async function* decode(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      yield decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
    await body.cancel().catch(() => {});
  }
}

/** Options of `client.events()`. */
export interface EventsOptions {
  /** Only events of this queue. */
  queue?: string;
  /** Only events of this task. */
  id?: string;
  /** Ends the stream quietly when aborted. */
  signal?: AbortSignal;
  /** Called once the server has accepted the stream, before any event. */
  onOpen?: () => void;
}

/**
 * Follows the server's task events until `signal` aborts (then it ends quietly) or the server
 * closes the stream (then it ends too; reconnecting is the caller's choice). Throws
 * AsyncQueueError when the stream cannot be opened.
 */
export async function* taskEvents(requester: Requester, opts: EventsOptions = {}): AsyncGenerator<TaskEvent> {
  const { res } = await requester.open({ method: 'GET', path: '/v1/events', query: { queue: opts.queue, id: opts.id }, headers: { accept: 'text/event-stream' }, signal: opts.signal, stream: true });
  opts.onOpen?.();
  if (!res.body) return;
  try {
    for await (const msg of parseSse(decode(res.body))) {
      if (msg.event !== 'task') continue;
      try {
        yield JSON.parse(msg.data) as TaskEvent;
      } catch {
        // A malformed event is skipped rather than ending the stream.
      }
    }
  } catch (err) {
    if (opts.signal?.aborted) return;
    if (err instanceof AsyncQueueError) throw err;
    throw new AsyncQueueError(0, 'unreachable', `the event stream from AsyncQueue at ${requester.baseUrl} broke`, { cause: err });
  }
}
