// A /v1/events client that stops reading is dropped once its backlog passes the bound (10,000
// events), so it cannot hold a --max-sse-clients slot forever; a client that reads keeps its
// stream through the same events.
import net from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { taskEvent } from '../../src/dispatch/events.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** An event stream that reads its headers and then never reads again. */
function stalledClient(s: TestServer): Promise<net.Socket> {
  const { port } = new URL(s.url);
  return new Promise((resolve, reject) => {
    const sock = net.connect(Number(port), '127.0.0.1', () => sock.write('GET /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    onTestFinished(() => void sock.destroy());
    sock.once('data', (d) => {
      expect(d.toString('latin1')).toMatch(/^HTTP\/1\.1 200/);
      sock.pause();
      resolve(sock);
    });
    sock.on('error', () => undefined);
    setTimeout(() => reject(new Error('no answer')), 10_000).unref();
  });
}

/** Status of a new /v1/events request (the stream is closed again right away). */
async function tryStream(s: TestServer): Promise<number> {
  const ac = new AbortController();
  const r = await fetch(s.url + '/v1/events', { signal: ac.signal });
  ac.abort();
  await r.body?.cancel().catch(() => undefined);
  return r.status;
}

describe('slow event-stream clients', () => {
  it('a client that stopped reading is dropped past the backlog bound and its slot freed; a reading client keeps its stream', async () => {
    const s = await startServer({ maxSseClients: 2 });
    // The reading client counts what it gets.
    let received = 0;
    let onReceived = () => {};
    /** Resolves once the reading client has `n` events (it reads as fast as the server writes). */
    const receivedAll = (n: number) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the reading client got ${received} of ${n} events`)), 15_000);
        onReceived = () => received >= n && (clearTimeout(timer), resolve());
        onReceived();
      });
    const readerAbort = new AbortController();
    const reader = await fetch(s.url + '/v1/events', { signal: readerAbort.signal });
    const done = (async () => {
      const dec = new TextDecoder();
      let rest = '';
      for await (const chunk of reader.body as unknown as AsyncIterable<Uint8Array>) {
        const parts = (rest + dec.decode(chunk, { stream: true })).split('\n\n');
        rest = parts.pop()!;
        for (const p of parts) if (p.startsWith('event: task')) received++;
        onReceived();
      }
    })().catch(() => undefined);
    await stalledClient(s);
    expect(await tryStream(s)).toBe(503); // both slots taken
    let emitted = 0;
    let freed = false;
    // Rounds of 2,000 events (fewer than the bound, so a burst alone never drops anyone), each
    // once the reading client has the last; the stalled client's socket buffers fill first,
    // then its backlog grows. At most 100 rounds.
    for (let round = 0; round < 100 && !freed; round++) {
      for (let i = 0; i < 2000; i++) s.events.emit(taskEvent(`tsk_${emitted++}`, 'q', 'pending', 0, Date.now()));
      await receivedAll(emitted); // paced by the reading client, which keeps up
      freed = (await tryStream(s)) === 200;
    }
    expect(freed).toBe(true);
    // The reading client got every event, and still gets them after the drop.
    for (let i = 0; i < 100; i++) s.events.emit(taskEvent(`tsk_after_${emitted++}`, 'q', 'pending', 0, Date.now()));
    await receivedAll(emitted);
    expect(received).toBe(emitted);
    console.log(`stalled client dropped after ${emitted} events; the reading client got ${received}`);
    readerAbort.abort();
    await done;
  });
});
