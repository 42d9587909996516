// GET /v1/doctor and `asyncqueue doctor`: database path, size, schema version, durability, task
// counts and the signing secret's fingerprint — and never the secret or the token.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../cli/run-cli.js';
import { spawnServer, startServer } from '../helpers/server.js';
import { createTask, taskInput } from '../helpers/tasks.js';

const SECRET = 'whsec_' + Buffer.from('doctor-test-signing-secret-32by').toString('base64');
const TOKEN = 'doctor-token-1234567890';

describe('GET /v1/doctor', () => {
  it('reports the database, durability, task counts and the secret fingerprint, without secrets', async () => {
    const server = await startServer({ token: TOKEN, signingSecret: SECRET, durability: 'normal' });
    expect((await server.api('/v1/queues/held', { method: 'PUT', body: { paused: true } })).status).toBe(200);
    await createTask(server, taskInput('http://127.0.0.1:9/x', { queue: 'held' }));
    await createTask(server, taskInput('http://127.0.0.1:9/x', { queue: 'held' }));
    const r = await server.api('/v1/doctor');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      database: { path: path.join(server.dir, 'aq.db'), schemaVersion: expect.any(Number), durability: 'normal' },
      tasks: { pending: 2, running: 0, completed: 0, failed: 0, cancelled: 0 },
      queues: 1,
      inFlight: 0,
      signingSecret: { fingerprint: server.secretFingerprint, source: 'config' },
      auth: { tokens: 1 },
      node: process.version,
    });
    expect(r.body.database.sizeBytes).toBeGreaterThan(0);
    expect(r.body.config).toMatchObject({ concurrency: 100, host: '127.0.0.1' });
    expect(r.body.database.store).toBe('sqlite');
    expect(r.body.nodes).toEqual([expect.objectContaining({ id: server.cluster.id, leader: true, alive: true, inFlight: 0 })]);
    const text = JSON.stringify(r.body);
    expect(text).not.toContain(TOKEN);
    expect(text).not.toContain(SECRET.slice(6));
  });

  it('says the secret came from the database when the server generated it, and needs the token', async () => {
    const server = await startServer({ token: TOKEN });
    expect((await fetch(server.url + '/v1/doctor')).status).toBe(401);
    expect((await server.api('/v1/doctor')).body.signingSecret).toEqual({ fingerprint: server.secretFingerprint, source: 'database' });
  });
});

describe('asyncqueue doctor', () => {
  it('prints the facts for a bug report from a running server, as lines or --json', async () => {
    const server = await spawnServer(['--token', TOKEN, '--signing-secret', SECRET]);
    const env = { AQ_URL: server.url, AQ_TOKEN: TOKEN };
    const human = await runCli(['doctor'], { env });
    expect(human.code, human.stderr).toBe(0);
    for (const word of ['client', 'database        SQLite', 'schema', 'durability    full', 'signing secret  fingerprint', 'pending 0', 'nodes ', ', leader, 0 in flight)']) expect(human.stdout).toContain(word);
    expect(human.stdout).not.toContain(TOKEN);
    expect(human.stdout).not.toContain(SECRET.slice(6));

    const json = await runCli(['doctor', '--json'], { env });
    expect(json.code, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.client).toMatchObject({ node: process.version });
    expect(report.server).toMatchObject({ url: server.url, database: { durability: 'full' }, signingSecret: { source: 'config' } });
    expect(human.stdout).toContain(report.server.signingSecret.fingerprint);
  });

  it('exits 1 naming the server when it cannot be reached, after printing the client half', async () => {
    const r = await runCli(['doctor', '--url', 'http://127.0.0.1:9']);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('client');
    expect(r.stderr).toMatch(/cannot reach AsyncQueue at http:\/\/127\.0\.0\.1:9/);
  });
});
