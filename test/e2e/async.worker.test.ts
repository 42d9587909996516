// The long-running pattern of the README, end to end: a report worker written with the SDK
// answers 202 at once, heartbeats while it renders, and completes (or fails, then is retried)
// with its completion token; the app's webhook receives the result.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AsyncQueue, completionFromHeaders, verifySignature, type Task } from '../../src/index.js';
import { startServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { waitForTerminal } from '../helpers/tasks.js';

/** The worker of the README: `render` stands in for the slow part. */
async function startReportWorker(secret: string, render: (jobId: string, attempt: number) => Promise<{ url: string; pages: number }>) {
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', async () => {
      if (!verifySignature({ secret, headers: req.headers, body: raw })) return res.writeHead(401).end();
      const c = completionFromHeaders(req.headers);
      if (!c) return res.writeHead(400).end('not an async task');
      res.writeHead(202).end(); // taken over: AsyncQueue keeps the attempt open
      const aq = new AsyncQueue({ url: c.baseUrl });
      const { jobId } = JSON.parse(raw) as { jobId: string };
      try {
        await aq.tasks.heartbeat(c.taskId, { token: c.token });
        const pdf = await render(jobId, c.attempt);
        await aq.tasks.complete(c.taskId, { jobId, reportUrl: pdf.url, pageCount: pdf.pages }, { token: c.token });
      } catch (err) {
        await aq.tasks.fail(c.taskId, (err as Error).message, { token: c.token });
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  onTestFinished(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('a 202 report worker', () => {
  it('renders in the background, fails once, is retried, and the webhook gets the report', async () => {
    const secret = 'whsec_' + Buffer.from('a-test-signing-secret-24b').toString('base64');
    const server = await startServer({ signingSecret: secret });
    const hook = await startTarget();
    const worker = await startReportWorker(secret, async (jobId, attempt) => {
      if (attempt === 1) throw new Error('renderer crashed');
      return { url: `https://files.example.com/${jobId}.pdf`, pages: 12 };
    });
    const aq = new AsyncQueue({ url: server.url });
    const task = await aq.tasks.create({
      targetUrl: `${worker}/api/run-report`,
      payload: { jobId: 'job-1', format: 'pdf' },
      webhookUrl: `${hook.url}/api/on-report-ready`,
      retries: 3,
      backoff: { initial: 0.01 },
      async: { timeout: 3600, heartbeat: 300 },
    });
    const done = (await waitForTerminal(server, task.id)) as Task;
    expect(done).toMatchObject({ status: 'completed', attempts: 2, result: { jobId: 'job-1', reportUrl: 'https://files.example.com/job-1.pdf', pageCount: 12 } });
    const [delivery] = await hook.waitForRequests(1);
    expect(delivery!.json.result).toEqual(done.result);
    const attempts = await aq.tasks.attempts(task.id);
    expect(attempts.map((a) => [a.status, a.async?.ended, a.error?.message])).toEqual([
      [202, 'failed', 'the target failed the attempt: renderer crashed'],
      [202, 'completed', undefined],
    ]);
    expect(attempts.every((a) => a.async?.lastHeartbeatAt)).toBe(true);
  });

  it('completionFromHeaders reads Node and fetch headers, and is null without a completion', () => {
    const headers = {
      'aq-task-id': 'tsk_1', 'aq-attempt': '3', 'aq-completion-token': 'aqc1.3.x',
      'aq-completion-url': 'https://aq.example.com/queue/v1/tasks/tsk_1/complete',
    };
    const want = { taskId: 'tsk_1', attempt: 3, token: 'aqc1.3.x', url: headers['aq-completion-url'], baseUrl: 'https://aq.example.com/queue' };
    expect(completionFromHeaders(headers)).toEqual(want);
    expect(completionFromHeaders(new Headers(headers))).toEqual(want);
    expect(completionFromHeaders({ 'aq-task-id': 'tsk_1', 'aq-attempt': '1' })).toBeNull();
  });
});
