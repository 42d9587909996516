// `aq cluster` and the SDK's aq.cluster() (api.md §9): the nodes of a running server, as a table
// or --json; one node, the leader, with SQLite.
import { describe, expect, it } from 'vitest';
import { AsyncQueue } from '../../src/index.js';
import { spawnServer } from '../helpers/server.js';
import { runCli } from './run-cli.js';

describe('aq cluster', () => {
  it('lists the nodes with their state, as lines or --json, and the SDK gives the same', async () => {
    const server = await spawnServer(['--node-name', 'web-1', '--node-id', 'web-1-a']);
    const env = { AQ_URL: server.url };
    const human = await runCli(['cluster'], { env });
    expect(human.code, human.stderr).toBe(0);
    for (const word of ['NAME', 'HEARTBEAT', 'web-1', 'leader']) expect(human.stdout).toContain(word);
    const json = await runCli(['cluster', '--json'], { env });
    expect(json.code, json.stderr).toBe(0);
    const { nodes } = JSON.parse(json.stdout);
    expect(nodes).toEqual([expect.objectContaining({ id: 'web-1-a', name: 'web-1', leader: true, alive: true, inFlight: 0 })]);
    const aq = new AsyncQueue({ url: server.url });
    expect((await aq.cluster()).nodes.map((n) => n.name)).toEqual(['web-1']);
    expect((await runCli(['cluster', '--url', 'http://127.0.0.1:9'])).code).toBe(1);
  });
});
