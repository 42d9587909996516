// Waiting for tasks: long-poll (`?wait=`) on GET and on create, and the SSE stream of state
// changes (`GET /v1/events`) read with fetch and a stream reader.
import { describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { countCalls, manualClock } from '../helpers/clock.js';
import { startTarget } from '../helpers/target.js';
import { createTask, taskInput } from '../helpers/tasks.js';

/** Opens /v1/events and yields each parsed `event:`/`data:` message; the caller closes it. */
async function openEvents(server: TestServer, query = '') {
  const controller = new AbortController();
  const res = await fetch(`${server.url}/v1/events${query}`, { signal: controller.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/event-stream');
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  async function next(): Promise<{ event: string; data: any }> {
    for (;;) {
      const end = buf.indexOf('\n\n');
      if (end >= 0) {
        const block = buf.slice(0, end);
        buf = buf.slice(end + 2);
        if (block.startsWith(':')) continue; // heartbeat comment
        const event = /^event: ?(.*)$/m.exec(block)?.[1] ?? 'message';
        const data = block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.replace(/^data: ?/, '')).join('\n');
        return { event, data: data ? JSON.parse(data) : null };
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('event stream ended');
      buf += value;
    }
  }
  return { next, close: () => controller.abort() };
}

describe('waiting for tasks', () => {
  it('GET ?wait= answers when the task ends, not when the wait runs out', async () => {
    const server = await startServer();
    let release!: () => void;
    const target = await startTarget(() => new Promise((r) => (release = () => r({ status: 200, body: 'late' }))));
    const task = await createTask(server, taskInput(target.url));
    await target.waitForRequests(1);
    const subscribed = countCalls(server.events, 'onTask').next(1);
    // 60 s is past this test's own timeout: only the task's end can answer in time.
    const answer = server.api(`/v1/tasks/${task.id}?wait=60`);
    await subscribed; // the wait listens: the end cannot slip by it
    expect((await server.api(`/v1/tasks/${task.id}`)).body.status).toBe('running');
    release();
    expect((await answer).body).toMatchObject({ id: task.id, status: 'completed', result: 'late' });
  });

  it('GET ?wait= on a task that does not end answers with it as it is after the wait', async () => {
    // On a clock that stands still the task's run time never comes, however slow the machine.
    const server = await startServer({ clock: manualClock() });
    const target = await startTarget();
    const task = await createTask(server, taskInput(target.url, { delay: 60 }));
    const r = await server.api(`/v1/tasks/${task.id}?wait=1`);
    expect(r.status).toBe(200);
    expect(r.body.status).toBe('pending');
    expect(target.requests).toHaveLength(0);
  });

  it('POST /v1/tasks?wait= creates the task and answers with its outcome', async () => {
    const server = await startServer();
    const target = await startTarget(() => ({ status: 200, body: { sum: 3 } }));
    const r = await server.api('/v1/tasks?wait=20', { body: taskInput(target.url) });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: 'completed', result: { sum: 3 }, attempts: 1 });
  });

  it('GET /v1/events streams a task going pending → running → completed', async () => {
    const server = await startServer();
    const target = await startTarget();
    const stream = await openEvents(server);
    try {
      expect((await stream.next()).event).toBe('ready');
      const task = await createTask(server, taskInput(target.url, { queue: 'sse' }));
      const seen: string[] = [];
      while (!seen.includes('completed')) {
        const m = await stream.next();
        expect(m.event).toBe('task');
        if (m.data.id !== task.id) continue;
        expect(m.data).toMatchObject({ id: task.id, queue: 'sse' });
        expect(Date.parse(m.data.at)).not.toBeNaN();
        seen.push(m.data.status);
      }
      expect(seen).toEqual(['pending', 'running', 'completed']);
    } finally {
      stream.close();
    }
  });

  it('GET /v1/events?queue= streams only that queue, including retries and failure', async () => {
    const server = await startServer();
    const target = await startTarget(() => ({ status: 500 }));
    const stream = await openEvents(server, '?queue=watched');
    try {
      await stream.next();
      await createTask(server, taskInput(target.url, { queue: 'other' }));
      const task = await createTask(server, taskInput(target.url, { queue: 'watched', retries: 1 }));
      const seen: string[] = [];
      for (let status = ''; status !== 'failed'; ) {
        const m = await stream.next();
        expect(m.data.id).toBe(task.id);
        status = m.data.status;
        seen.push(`${status}:${m.data.attempts}`);
      }
      expect(seen).toEqual(['pending:0', 'running:1', 'pending:1', 'running:2', 'failed:2']);
    } finally {
      stream.close();
    }
  });
});
