// HostTable (dispatch/hosts.ts): 10,000 distinct origins keep at most the cap in memory, the
// least recently used idle one goes first, and an origin with attempts in flight stays.
import { describe, expect, it } from 'vitest';
import { HostTable } from '../../src/dispatch/hosts.js';
import { silentLogger } from '../../src/log.js';

const ok = { kind: 'response' as const, status: 200, noRetry: false, resultJson: null, durationMs: 1 };
const policy = { breakerFailures: 2, hostConcurrency: null, globalConcurrency: 100 };

describe('HostTable', () => {
  it('10,000 distinct origins: at most the cap is tracked, the least recently used first forgotten', () => {
    const hosts = new HostTable({ policy, log: silentLogger, maxHosts: 1000 });
    const busy = hosts.admit('http://busy.example:1/x', 0);
    expect(busy.ok).toBe(true);
    for (let i = 0; i < 10_000; i++) {
      const a = hosts.admit(`http://h${i}.example:8080/p`, i);
      if (a.ok) hosts.finish(a.ticket, ok, undefined, i);
    }
    expect(hosts.size).toBe(1000);
    const origins = hosts.list().map((h) => h.origin);
    expect(origins[0]).toBe('http://h9999.example:8080');
    expect(origins).toContain('http://busy.example:1');
    expect(origins).not.toContain('http://h0.example:8080');
  });

  it('a URL with no origin is admitted untracked; reset of an unknown origin is false', () => {
    const hosts = new HostTable({ policy, log: silentLogger });
    expect(hosts.admit('not a url', 0)).toEqual({ ok: true, ticket: undefined });
    expect(hosts.size).toBe(0);
    expect(hosts.reset('http://nowhere.example')).toBe(false);
  });

  it('share caps one origin below its own limit (the webhook sender passes half its slots)', () => {
    const hosts = new HostTable({ policy, log: silentLogger });
    expect(hosts.admit('http://a.example/', 0, 1).ok).toBe(true);
    expect(hosts.admit('http://a.example/', 0, 1)).toMatchObject({ ok: false, reason: 'limit' });
    expect(hosts.admit('http://a.example/', 0).ok).toBe(true);
  });
});
