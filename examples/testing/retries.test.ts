// Testing an integration with AsyncQueue: an embedded server on a virtual clock, a handler of
// your own as the target, the request sink as the webhook receiver. Run with `npx vitest`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AsyncQueue } from 'asyncqueue';
import { createServer, type AsyncQueueServer } from 'asyncqueue/server';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs';

let server: AsyncQueueServer;
let aq: AsyncQueue;
let worker: http.Server;
let workerUrl: string;
let calls = 0;

beforeAll(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aq-example-'));
  server = await createServer({ db: path.join(dir, 'test.db'), port: 0, dev: true, clock: 'virtual', logLevel: 'silent' });
  aq = new AsyncQueue({ url: server.url });
  // The worker under test: fails twice with 503, then answers with a report.
  worker = http.createServer((req, res) => {
    calls++;
    res.writeHead(calls <= 2 ? 503 : 200, { 'content-type': 'application/json' });
    res.end(calls <= 2 ? '{"error":"busy"}' : '{"reportUrl":"https://files.example/r.pdf"}');
  });
  await new Promise<void>((r) => worker.listen(0, '127.0.0.1', r));
  workerUrl = `http://127.0.0.1:${(worker.address() as AddressInfo).port}/run-report`;
  return async () => fs.rmSync(dir, { recursive: true, force: true });
});

afterAll(async () => {
  await server.close();
  await new Promise((r) => worker.close(r));
});

it('retries a failing worker with backoff and then delivers the webhook', async () => {
  const task = await aq.tasks.create({
    targetUrl: workerUrl,
    payload: { jobId: 'job-1' },
    webhookUrl: aq.sink.url('on-report-ready'),
    retries: 3,
    backoff: { initial: 60, factor: 2, max: 3600 },
  });
  // Two retries wait about 1 and 2 minutes: ten virtual minutes cover them, in milliseconds.
  await aq.clock.advance(600);

  const done = await aq.tasks.get(task.id);
  expect(done.status).toBe('completed');
  expect(done.attempts).toBe(3);
  expect(done.result).toEqual({ reportUrl: 'https://files.example/r.pdf' });

  const [webhook] = await aq.sink.list('on-report-ready');
  expect(webhook?.signatureVerified).toBe(true);
  expect(webhook?.json).toMatchObject({ id: task.id, status: 'completed', result: { reportUrl: 'https://files.example/r.pdf' } });
});
