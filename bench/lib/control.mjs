// Orchestrator-side HTTP calls: the target's control routes and the few
// AsyncQueue API calls the scenarios need (pause a queue, bulk cancel, stats,
// "is anything of this queue still pending or running").
import { now, sleep } from './common.mjs';

async function call(origin, method, path, body, timeoutMs = 300000) {
  const headers = { 'content-type': 'application/json' };
  if (process.env.AQ_TOKEN) headers.authorization = `Bearer ${process.env.AQ_TOKEN}`;
  const r = await fetch(origin + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
  const text = await r.text();
  let json = null; try { json = JSON.parse(text); } catch {}
  if (r.status >= 300) throw new Error(`${method} ${path} answered ${r.status}: ${text.slice(0, 300)}`);
  return json;
}

/** Control of the target process (target.mjs). */
export function targetControl(port) {
  const origin = `http://127.0.0.1:${port}`;
  const t = {
    url: `${origin}/hook`,
    reset: (run, n) => call(origin, 'POST', '/_reset', { run, n }),
    stats: () => call(origin, 'GET', '/_stats'),
    arrivals: () => call(origin, 'GET', '/_arrivals'),
    /** Polls until n arrivals (n may be a function, re-read each poll), a stall of stallS seconds, or timeoutS. */
    async waitArrivals(n, { timeoutS = 300, stallS = 60, everyMs = 20 } = {}) {
      const want = typeof n === 'function' ? n : () => n;
      const end = Date.now() + timeoutS * 1000;
      let last = -1, lastChange = Date.now();
      for (;;) {
        const s = await t.stats();
        if (s.count >= want()) return { ...s, complete: true };
        if (s.count !== last) { last = s.count; lastChange = Date.now(); }
        if (Date.now() > end || Date.now() - lastChange > stallS * 1000) return { ...s, complete: false };
        await sleep(everyMs);
      }
    },
  };
  return t;
}

/** The AsyncQueue API calls the scenarios use, against one server origin. */
export function aqControl(origin) {
  const aq = {
    pauseQueue: (queue, paused = true) => call(origin, 'PUT', `/v1/queues/${queue}`, { paused }),
    cancel: (filter) => call(origin, 'POST', '/v1/tasks/cancel', filter, 600000),
    stats: () => call(origin, 'GET', '/v1/stats'),
    queues: () => call(origin, 'GET', '/v1/queues'),
    list: (q) => call(origin, 'GET', `/v1/tasks?${new URLSearchParams(q)}`),
    /** Number of tasks of `queue` in `status`, from GET /v1/queues (null if the shape is unknown). */
    async count(queue, status) {
      const r = await aq.queues();
      const q = (r?.queues || []).find((x) => x.name === queue);
      if (!q) return 0;
      const counts = q.counts || q;
      return typeof counts[status] === 'number' ? counts[status] : null;
    },
    /** True when the list API shows nothing of `queue` pending or running. */
    async idle(queue) {
      for (const status of ['pending', 'running']) {
        const r = await aq.list({ queue, status, limit: '1' });
        if (r.tasks.length) return false;
      }
      return true;
    },
    /** Polls idle(queue) every everyMs until true or timeoutS; resolves with the monotonic time it first held, or null. */
    async waitIdle(queue, { timeoutS = 120, everyMs = 10 } = {}) {
      const end = Date.now() + timeoutS * 1000;
      while (Date.now() < end) {
        if (await aq.idle(queue)) return now();
        await sleep(everyMs);
      }
      return null;
    },
  };
  return aq;
}
