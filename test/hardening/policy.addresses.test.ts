// The outbound policy's pure parts: which addresses are refused, the allow list, the create-time
// check of literal URLs, and the filtered DNS lookup (with an injected resolver, no network).
import type dns from 'node:dns';
import { describe, expect, it } from 'vitest';
import { blockedReason, filteredLookup, isAllowedHost, refusedUrl } from '../../src/dispatch/policy.js';

describe('blockedReason', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.1.2', 'loopback'],
    ['0.0.0.0', 'unspecified'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'shared (CGNAT)'],
    ['100.127.255.254', 'shared (CGNAT)'],
    ['169.254.169.254', 'cloud metadata'],
    ['169.254.1.1', 'link-local'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'cloud metadata'],
    ['::ffff:10.0.0.1', 'private'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['2002:a00:1::', 'private'],
    ['::127.0.0.1', 'reserved'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
  ])('%s is refused as %s', (ip, reason) => {
    expect(blockedReason(ip)).toBe(reason);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '100.128.0.1', '169.255.0.1', '2606:4700::1111', '::ffff:8.8.8.8', '64:ff9b::8.8.8.8'])(
    '%s is public and allowed',
    (ip) => {
      expect(blockedReason(ip)).toBeUndefined();
    },
  );
});

describe('allow list and create-time check', () => {
  const on = { blockPrivate: true, allowHosts: ['worker.internal', '*.svc.local', '127.0.0.1'] };

  it('matches exact names, subdomain wildcards and literals, case-insensitively', () => {
    expect(isAllowedHost('Worker.Internal', on.allowHosts)).toBe(true);
    expect(isAllowedHost('a.b.svc.local', on.allowHosts)).toBe(true);
    expect(isAllowedHost('svc.local.evil.com', on.allowHosts)).toBe(false);
    expect(isAllowedHost('worker.internal.evil.com', on.allowHosts)).toBe(false);
  });

  it('refuses literal private addresses and localhost, in every spelling the URL parser accepts', () => {
    for (const url of ['http://10.0.0.1/', 'http://[::1]:8080/x', 'http://0x7f000002/', 'http://2130706434/', 'http://localhost:3000/', 'http://api.localhost/', 'http://[::ffff:169.254.169.254]/', 'https://169.254.169.254/latest/meta-data']) {
      expect(refusedUrl(url, on), url).toMatch(/refused by --block-private-targets/);
    }
  });

  it('lets names, public addresses and allowed hosts through, and everything when the block is off', () => {
    expect(refusedUrl('http://example.com/', on)).toBeUndefined();
    expect(refusedUrl('http://8.8.8.8/', on)).toBeUndefined();
    expect(refusedUrl('http://127.0.0.1:9/', on)).toBeUndefined();
    expect(refusedUrl('http://10.0.0.1/', { blockPrivate: false, allowHosts: [] })).toBeUndefined();
  });
});

describe('filteredLookup', () => {
  const fake = (answers: Record<string, dns.LookupAddress[]>) =>
    ((host: string, _opts: unknown, cb: (e: Error | null, a?: dns.LookupAddress[]) => void) => cb(null, answers[host] ?? [])) as unknown as typeof dns.lookup;
  const resolver = fake({
    'rebind.test': [{ address: '127.0.0.1', family: 4 }],
    'mixed.test': [{ address: '10.0.0.7', family: 4 }, { address: '93.184.216.34', family: 4 }, { address: 'fd00::1', family: 6 }],
    'meta.test': [{ address: '::ffff:169.254.169.254', family: 6 }],
  });
  const run = (host: string, all: boolean) =>
    new Promise<{ err: (Error & { code?: string }) | null; addr: unknown; family?: number }>((resolve) =>
      filteredLookup(resolver)(host, { all } as never, ((err: Error | null, addr: unknown, family?: number) => resolve({ err, addr, family })) as never),
    );

  it('fails with AQ_BLOCKED and names the address when a name resolves only to blocked addresses', async () => {
    const r = await run('rebind.test', false);
    expect(r.err?.code).toBe('AQ_BLOCKED');
    expect(r.err?.message).toBe('rebind.test resolves to 127.0.0.1, a loopback address; refused by --block-private-targets');
    expect((await run('meta.test', true)).err?.message).toMatch(/cloud metadata/);
  });

  it('keeps only the public addresses of a name that resolves to both', async () => {
    expect(await run('mixed.test', true)).toMatchObject({ err: null, addr: [{ address: '93.184.216.34', family: 4 }] });
    expect(await run('mixed.test', false)).toMatchObject({ err: null, addr: '93.184.216.34', family: 4 });
  });
});
