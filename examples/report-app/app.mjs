// The report app of AsyncQueue's README, runnable: four pieces of one pattern.
//   1. POST /api/generate-report  records a job, creates a task, answers at once with the job id
//   2. POST /api/run-report       the slow worker AsyncQueue calls with the payload (retried on failure)
//   3. POST /api/on-report-ready  the webhook AsyncQueue calls with the outcome
//   4. GET  /api/jobs/:id          what the browser polls (see poll.mjs)
//
//   npm run build && npm start                      # AsyncQueue on http://127.0.0.1:8700
//   node examples/report-app/app.mjs                # this app on http://127.0.0.1:3000
//   node examples/report-app/poll.mjs 5             # generate 5 reports and poll until each is done
//
// Environment: AQ_URL (default http://127.0.0.1:8700), AQ_TOKEN, AQ_SIGNING_SECRET (else asked
// of the server once), PORT (default 3000; 0 picks a free one), APP_URL (how AsyncQueue reaches
// this app; default http://127.0.0.1:PORT). Plain node:http and an in-memory "database", so it
// needs nothing but the SDK.
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { pathToFileURL } from 'node:url';
import { AsyncQueue, ReceiveError } from 'asyncqueue';

/** Starts the app; resolves with its URL, its jobs and a close(). */
export async function startReportApp({ aqUrl, token, port = 3000, appUrl } = {}) {
  // One client for the life of the process: it keeps its connections to AsyncQueue open.
  const aq = new AsyncQueue({ url: aqUrl, token });
  const jobs = new Map(); // jobId → { id, status, params, reportUrl?, pageCount?, error? }
  const seenWebhooks = new Set(); // webhook-id values already handled (delivery is at least once)
  const attemptsByJob = new Map();
  let base = appUrl;

  const routes = {
    // 1. The endpoint the user calls: record the job, create a task, answer at once.
    'POST /api/generate-report': async (req) => {
      const params = JSON.parse((await text(req)) || '{}');
      const jobId = randomUUID();
      jobs.set(jobId, { id: jobId, type: 'report', status: 'pending', params });
      await aq.tasks.create({
        targetUrl: `${base}/api/run-report`,
        payload: { jobId, dateRange: params.dateRange, format: params.format ?? 'pdf', failFirst: params.failFirst ?? 0, invalid: params.invalid ?? false },
        webhookUrl: `${base}/api/on-report-ready`,
        retries: 3, // tried up to 4 times in all
        timeout: 120, // seconds per attempt
        backoff: params.backoff, // the default (2 s, 4 s, 8 s) unless the caller is in a hurry
        labels: ['report'],
      });
      return [200, { jobId, status: 'pending' }];
    },

    // 2. The worker AsyncQueue calls with the payload; its JSON answer becomes the task's result.
    'POST /api/run-report': async (req) => {
      const { payload, attempt } = await aq.receive(req); // verified: only AsyncQueue can call this
      const job = jobs.get(payload.jobId);
      if (job) job.status = 'processing';
      attemptsByJob.set(payload.jobId, attempt);
      if (payload.invalid) return [422, { error: 'the date range is invalid' }, { 'AQ-No-Retry': 'true' }]; // retrying cannot help
      if (attempt <= payload.failFirst) return [503, { error: 'the renderer is busy' }]; // a failure is retried
      const pdf = await renderReport(payload.jobId, payload.dateRange);
      return [200, { jobId: payload.jobId, reportUrl: pdf.url, pageCount: pdf.pages }];
    },

    // 3. The webhook AsyncQueue calls once the task has ended.
    'POST /api/on-report-ready': async (req) => {
      const hook = await aq.receiveWebhook(req);
      if (seenWebhooks.has(hook.webhookId)) return [200, { received: true, duplicate: true }];
      seenWebhooks.add(hook.webhookId);
      // `result` is null when the task failed: look at `status` before destructuring it.
      if (hook.status === 'completed') {
        const { jobId, reportUrl, pageCount } = hook.result;
        Object.assign(jobs.get(jobId) ?? {}, { status: 'completed', reportUrl, pageCount, attempts: hook.attempts });
      } else {
        Object.assign(jobs.get(hook.payload.jobId) ?? {}, { status: 'failed', error: hook.error.message, attempts: hook.attempts });
      }
      return [200, { received: true }];
    },
  };

  const server = http.createServer(async (req, res) => {
    const send = (status, body, headers = {}) => res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
    try {
      const job = /^\/api\/jobs\/([\w-]+)$/.exec(req.url ?? '');
      if (req.method === 'GET' && job) return jobs.has(job[1]) ? send(200, jobs.get(job[1])) : send(404, { error: 'no such job' });
      const route = routes[`${req.method} ${req.url}`];
      if (!route) return send(404, { error: 'not found' });
      const [status, body, headers] = await route(req);
      send(status, body, headers);
    } catch (err) {
      if (err instanceof ReceiveError) return send(err.status, { error: err.message });
      console.error(err);
      send(500, { error: 'internal error' });
    }
  });
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;
  base ??= url;
  return { url, jobs, attemptsByJob, close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))) };
}

/** The slow part, standing in for a PDF renderer. */
async function renderReport(jobId, dateRange) {
  await new Promise((r) => setTimeout(r, 20));
  return { url: `https://reports.example.com/${jobId}.pdf`, pages: String(dateRange ?? '').length + 1 };
}

async function text(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const app = await startReportApp({ port: Number(process.env.PORT ?? 3000), appUrl: process.env.APP_URL });
  console.log(`report app listening on ${app.url}`);
}
