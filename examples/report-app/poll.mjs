// The browser side of the report app: ask for reports, then poll each job until it is done.
//   node examples/report-app/poll.mjs [count]     (APP_URL, default http://127.0.0.1:3000)
import { pathToFileURL } from 'node:url';

/** POSTs /api/generate-report; resolves with the job id. */
export async function generate(appUrl, params = {}) {
  const res = await fetch(`${appUrl}/api/generate-report`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(params) });
  if (!res.ok) throw new Error(`generate-report answered ${res.status}: ${await res.text()}`);
  return (await res.json()).jobId;
}

/** Polls GET /api/jobs/:id every `everyMs` until the job is completed or failed; resolves with it. */
export async function poll(appUrl, jobId, everyMs = 3000) {
  for (;;) {
    const job = await (await fetch(`${appUrl}/api/jobs/${jobId}`)).json();
    if (job.status === 'completed' || job.status === 'failed') return job;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const appUrl = process.env.APP_URL ?? 'http://127.0.0.1:3000';
  const n = Number(process.argv[2] ?? 3);
  const ids = await Promise.all(Array.from({ length: n }, (_, i) => generate(appUrl, { dateRange: '2026-01', failFirst: i % 2 })));
  for (const job of await Promise.all(ids.map((id) => poll(appUrl, id, 500)))) {
    console.log(job.id, job.status, job.reportUrl ?? job.error, `(${job.attempts} attempt${job.attempts === 1 ? '' : 's'})`);
  }
}
