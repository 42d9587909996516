// A target or webhook receiver whose answer is expensive to parse (100,000 header lines,
// 100,000 trailer lines, 200,000 one-byte chunks, each in one write) must not stall the server:
// /healthz latency and the server's CPU per attempt while such answers arrive are compared with
// the same load against an ordinary target, measured in the same test.
import { describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { taskInput, waitForTask } from '../helpers/tasks.js';
import { startHostileTarget, type Flood } from './hostile-target.js';

const TASKS = 30;
const once = { retries: 0, timeout: 10, webhookRetries: 0 };

const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** Runs `bodies` as tasks while pinging /healthz back to back; the ping latencies and the CPU used. */
async function underLoad(s: TestServer, bodies: Record<string, unknown>[], done: (t: any) => boolean) {
  const latencies: number[] = [];
  let running = true;
  const pinger = (async () => {
    while (running) {
      const t0 = performance.now();
      const r = await fetch(s.url + '/healthz');
      await r.arrayBuffer();
      latencies.push(performance.now() - t0);
    }
  })();
  const cpu0 = process.cpuUsage();
  const r = await s.api('/v1/tasks/batch', { body: { tasks: bodies } });
  expect(r.status).toBe(201);
  const tasks = await Promise.all(r.body.tasks.map((t: { id: string }) => waitForTask(s, t.id, done, 60_000)));
  const cpu = process.cpuUsage(cpu0);
  running = false;
  await pinger;
  return { tasks, latencies, cpuMs: (cpu.user + cpu.system) / 1000 };
}

describe('answers that are expensive to parse', () => {
  it('header, trailer and chunk floods from targets and webhook receivers fail the attempt as network errors without stalling /healthz', async () => {
    const s = await startServer({ concurrency: 50 });
    const plain = await startTarget(() => ({ status: 200, body: { ok: true }, headers: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`x-h${i}`, 'v'])) }));
    const kinds: Flood[] = ['header-flood', 'trailer-flood', 'chunk-flood'];
    const hostile = await Promise.all(kinds.map((k) => startHostileTarget(k)));
    const terminal = (t: any) => ['completed', 'failed'].includes(t.status) && (t.webhook === null || ['delivered', 'failed'].includes(t.webhook.status));

    // Warm-up (first connections, compiled code), then the baseline: the same number of
    // attempts and webhook deliveries against an ordinary target.
    const warm = await underLoad(s, Array.from({ length: 10 }, (_, i) => taskInput(`${plain.url}/w${i}`, { ...once, webhookUrl: `${plain.url}/wh${i}` })), terminal);
    const base = await underLoad(s, Array.from({ length: TASKS }, (_, i) => taskInput(`${plain.url}/t${i}`, { ...once, webhookUrl: `${plain.url}/hook${i}` })), terminal);
    expect(base.tasks.every((t) => t.status === 'completed' && t.webhook.status === 'delivered')).toBe(true);

    // Flood: half the tasks have a flooding target, half a flooding webhook receiver, the three
    // kinds in turn.
    const bodies = Array.from({ length: TASKS }, (_, i) => {
      const h = hostile[i % kinds.length]!;
      return i % 2 === 0 ? taskInput(`${h.url}/t${i}`, { ...once, webhookUrl: `${plain.url}/hook${i}` }) : taskInput(`${plain.url}/t${i}`, { ...once, webhookUrl: `${h.url}/hook${i}` });
    });
    const flood = await underLoad(s, bodies, terminal);
    const figures = {
      baseline: { p50: percentile(base.latencies, 0.5), p90: percentile(base.latencies, 0.9), max: Math.max(...base.latencies), cpuMs: base.cpuMs, pings: base.latencies.length },
      flood: { p50: percentile(flood.latencies, 0.5), p90: percentile(flood.latencies, 0.9), max: Math.max(...flood.latencies), cpuMs: flood.cpuMs, pings: flood.latencies.length },
    };
    console.log('healthz latency (ms) and CPU under floods vs baseline', JSON.stringify(figures));
    for (const [i, t] of flood.tasks.entries()) {
      const failed = i % 2 === 0 ? t.error : t.webhook.error;
      expect(i % 2 === 0 ? t.status : t.webhook.status, JSON.stringify(t)).toBe('failed');
      expect(failed.type).toBe('network');
      expect(failed.message).toMatch(/response headers over 16 KiB or 256 fields|response body in over \d+ pieces/);
    }
    // Unbounded, parsing cost ~75 ms of CPU per flooded answer (over 3 s for this test, about 12
    // times the baseline) and held /healthz for as long; bounded, a flooded attempt costs about
    // what an ordinary one does. The latency bound is loose: the machine's own noise (other
    // processes) shows in the warm-up and baseline maxima, and scales the bound with it.
    expect(flood.cpuMs).toBeLessThan(base.cpuMs * 4);
    expect(figures.flood.max).toBeLessThan(5 * Math.max(figures.baseline.max, ...warm.latencies));
  });
});
