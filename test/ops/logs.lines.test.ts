// The server's logs as a log collector sees them: every stdout line one JSON object with time,
// level and msg; requests carry their X-Request-Id; --log-level filters; and no token, signing
// secret, Authorization header or payload ever appears.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { BIN } from '../helpers/server.js';
import { startTarget } from '../helpers/target.js';
import { hermeticEnv, tempDir } from '../helpers/temp.js';

const TOKEN = 'log-token-abcdef123456';
const SECRET = 'whsec_' + Buffer.from('log-test-signing-secret-32-byte').toString('base64');
const PAYLOAD_VALUE = 'payload-value-that-must-not-be-logged';

/** Runs `serve` with `args`; resolves its URL and, after stop(), every stdout line. */
async function serve(args: string[]) {
  const dir = tempDir();
  const proc = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--db', path.join(dir, 'aq.db'), ...args], { cwd: dir, env: hermeticEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  onTestFinished(() => void (proc.exitCode === null && proc.signalCode === null && proc.kill('SIGKILL')));
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d) => (stdout += d));
  proc.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => proc.on('close', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not listening:\n${stderr}`)), 20_000);
    proc.stderr.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(stderr);
      if (m) (clearTimeout(timer), resolve(m[1]!));
    });
    proc.on('exit', () => (clearTimeout(timer), reject(new Error(`exited:\n${stderr}`))));
  });
  const stop = async () => {
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
    return { stdout, lines: stdout.split('\n').filter(Boolean) };
  };
  return { url, stop };
}

describe('logs', () => {
  it('are JSON lines with time, level and msg, tie requests to their X-Request-Id, and never show secrets or payloads', async () => {
    const target = await startTarget();
    const server = await serve(['--log-level', 'debug', '--token', TOKEN, '--signing-secret', SECRET]);
    const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', 'x-request-id': 'trace-abc-123' };
    const created = await fetch(`${server.url}/v1/tasks?wait=10`, {
      method: 'POST', headers, body: JSON.stringify({ targetUrl: target.url, payload: { secret: PAYLOAD_VALUE }, headers: { 'x-api-key': PAYLOAD_VALUE } }),
    });
    expect(created.headers.get('x-request-id')).toBe('trace-abc-123');
    expect(((await created.json()) as { status: string }).status).toBe('completed');
    const refused = await fetch(`${server.url}/v1/tasks`, { headers: { authorization: 'Bearer wrong-token-value' } });
    expect(refused.status).toBe(401);
    const generated = refused.headers.get('x-request-id');
    expect(generated).toMatch(/^[\w.-]{8,}$/);

    const { stdout, lines } = await server.stop();
    const entries = lines.map((l) => JSON.parse(l) as { time: string; level: string; msg: string; requestId?: string; status?: number });
    for (const e of entries) {
      expect(Number.isNaN(Date.parse(e.time))).toBe(false);
      expect(['debug', 'info', 'warn', 'error']).toContain(e.level);
      expect(typeof e.msg).toBe('string');
    }
    expect(entries.some((e) => e.requestId === 'trace-abc-123' && e.status === 201)).toBe(true);
    expect(entries.some((e) => e.requestId === generated && e.status === 401)).toBe(true);
    expect(entries.some((e) => e.msg === 'task completed')).toBe(true);
    for (const secret of [TOKEN, SECRET, SECRET.slice(6), 'wrong-token-value', PAYLOAD_VALUE]) expect(stdout).not.toContain(secret);
  });

  it('--log-level warn keeps info and debug lines out', async () => {
    const target = await startTarget();
    const server = await serve(['--log-level', 'warn']);
    const r = await fetch(`${server.url}/v1/tasks?wait=10`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ targetUrl: target.url }) });
    expect(r.status).toBe(201);
    const { lines } = await server.stop();
    for (const l of lines) expect(['warn', 'error']).toContain((JSON.parse(l) as { level: string }).level);
  });
});
