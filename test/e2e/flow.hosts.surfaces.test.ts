// The hosts of api.md §12 where users look: the SDK, `aq hosts`, the dashboard page and /metrics,
// for an origin whose circuit a resetting target opened.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { AsyncQueue } from '../../src/index.js';
import { manualClock } from '../helpers/clock.js';
import { startServer } from '../helpers/server.js';
import { taskInput, waitForTask } from '../helpers/tasks.js';
import { runCli } from '../cli/run-cli.js';

async function resettingTarget(): Promise<string> {
  const server = http.createServer((req) => req.socket.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  onTestFinished(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('hosts in the SDK, CLI, dashboard and metrics', () => {
  it('an open circuit is listed, shown, exported and reset', async () => {
    const server = await startServer({ clock: manualClock(), breakerFailures: 2 });
    const sick = await resettingTarget();
    const tasks = await Promise.all([1, 2].map(async () => (await server.api('/v1/tasks', { body: taskInput(sick, { retries: 3 }) })).body));
    for (const t of tasks) await waitForTask(server, t.id, (x) => x.attempts === 1 && x.status === 'pending');

    const aq = new AsyncQueue({ url: server.url });
    const [h] = await aq.hosts.list();
    expect(h).toMatchObject({ origin: sick, state: 'open', consecutiveFailures: 2, inFlight: 0 });
    expect(h!.recentFailures[0]!.error).toMatch(/^network/);

    const table = await runCli(['hosts'], { env: { AQ_URL: server.url } });
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ORIGIN +CIRCUIT +IN FLIGHT +LIMIT +FAILURES +UNTIL +LAST FAILURE\n/);
    expect(table.stdout).toContain(sick);
    const json = JSON.parse((await runCli(['hosts', '--json'], { env: { AQ_URL: server.url } })).stdout);
    expect(json.hosts[0]).toMatchObject({ origin: sick, state: 'open' });

    const page = await (await fetch(server.url + '/hosts')).text();
    expect(page).toContain(sick);
    expect(page).toContain('open');

    const metrics = await (await fetch(server.url + '/metrics')).text();
    expect(metrics).toContain(`asyncqueue_host_circuit_open{origin="${sick}"} 1`);
    expect(metrics).toContain(`asyncqueue_host_consecutive_failures{origin="${sick}"} 2`);
    expect(metrics).toMatch(/^asyncqueue_hosts_open 1$/m);

    const bad = await runCli(['hosts', 'reset', 'nope'], { env: { AQ_URL: server.url } });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('origin');
    const reset = await runCli(['hosts', 'reset', sick, '--json'], { env: { AQ_URL: server.url } });
    expect(reset.code).toBe(0);
    expect(JSON.parse(reset.stdout)).toMatchObject({ origin: sick, state: 'closed', consecutiveFailures: 0 });
    expect((await aq.hosts.reset(sick)).state).toBe('closed');
  });
});
