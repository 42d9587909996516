// Server-Sent Events parsing of `GET /v1/events`, chunk boundaries included.
import { describe, expect, it } from 'vitest';
import { parseSse, type SseMessage } from '../../src/sdk/events.js';

async function parse(chunks: string[]): Promise<SseMessage[]> {
  async function* source() {
    yield* chunks;
  }
  const out: SseMessage[] = [];
  for await (const m of parseSse(source())) out.push(m);
  return out;
}

describe('parseSse', () => {
  it('yields named events with their data and id, skipping comments', async () => {
    const text = ': keep-alive\n\nevent: task\nid: 7\ndata: {"id":"tsk_1"}\n\n';
    expect(await parse([text])).toEqual([{ event: 'task', data: '{"id":"tsk_1"}', id: '7' }]);
  });

  it('joins multi-line data and defaults the event name to "message"', async () => {
    expect(await parse(['data: a\ndata: b\n\n'])).toEqual([{ event: 'message', data: 'a\nb', id: undefined }]);
  });

  it('handles CRLF line ends and events split across chunks anywhere', async () => {
    const text = 'event: task\r\ndata: {"n":1}\r\n\r\nevent: task\ndata:{"n":2}\n\n';
    for (let cut = 1; cut < text.length; cut += 3) {
      const events = await parse([text.slice(0, cut), text.slice(cut)]);
      expect(events.map((e) => e.data)).toEqual(['{"n":1}', '{"n":2}']);
    }
  });

  it('drops an event that the stream ends in the middle of', async () => {
    expect(await parse(['event: task\ndata: {"n":1}\n'])).toEqual([]);
  });
});
