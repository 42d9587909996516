// Outbound policy (--block-private-targets, --allow-hosts): which addresses attempts and webhook
// deliveries may connect to. The check runs on the addresses DNS returns at connect time and
// again on the socket's remote address, so DNS rebinding cannot slip past. deliver.ts maps the
// AQ_BLOCKED code to TaskError type "blocked".
import dns from 'node:dns';
import net from 'node:net';
import type { buildConnector } from 'undici';
import { undici } from './deliver.js';

/** Error raised when the policy refuses a connection; `code` is AQ_BLOCKED. */
export class BlockedError extends Error {
  override name = 'BlockedError';
  readonly code = 'AQ_BLOCKED';
}

type Range = [prefix: number[], bits: number, reason: string];

const V4: Range[] = [
  [[169, 254, 169, 254], 32, 'cloud metadata'],
  [[0, 0, 0, 0], 8, 'unspecified'],
  [[10, 0, 0, 0], 8, 'private'],
  [[100, 64, 0, 0], 10, 'shared (CGNAT)'],
  [[127, 0, 0, 0], 8, 'loopback'],
  [[169, 254, 0, 0], 16, 'link-local'],
  [[172, 16, 0, 0], 12, 'private'],
  [[192, 0, 0, 0], 24, 'reserved'],
  [[192, 0, 2, 0], 24, 'reserved'],
  [[192, 88, 99, 0], 24, 'reserved'],
  [[192, 168, 0, 0], 16, 'private'],
  [[198, 18, 0, 0], 15, 'reserved'],
  [[198, 51, 100, 0], 24, 'reserved'],
  [[203, 0, 113, 0], 24, 'reserved'],
  [[224, 0, 0, 0], 4, 'multicast'],
  [[240, 0, 0, 0], 4, 'reserved'],
];

const hex = (s: string) => s.split(':').flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 255]);
const V6: Range[] = [
  [hex('fd00:ec2:0:0:0:0:0:254'), 128, 'cloud metadata'],
  [hex('0:0:0:0:0:0:0:0'), 128, 'unspecified'],
  [hex('0:0:0:0:0:0:0:1'), 128, 'loopback'],
  [hex('0:0:0:0:0:0:0:0'), 96, 'reserved'], // IPv4-compatible (deprecated)
  [hex('100:0:0:0:0:0:0:0'), 64, 'reserved'], // discard
  [hex('64:ff9b:1:0:0:0:0:0'), 48, 'reserved'], // local NAT64
  [hex('2001:0:0:0:0:0:0:0'), 32, 'reserved'], // Teredo
  [hex('2001:db8:0:0:0:0:0:0'), 32, 'reserved'],
  [hex('fc00:0:0:0:0:0:0:0'), 7, 'unique-local'],
  [hex('fe80:0:0:0:0:0:0:0'), 10, 'link-local'],
  [hex('fec0:0:0:0:0:0:0:0'), 10, 'private'], // site-local (deprecated)
  [hex('ff00:0:0:0:0:0:0:0'), 8, 'multicast'],
];

function matches(bytes: number[], [prefix, bits]: Range): boolean {
  for (let i = 0; i < bits; i += 8) {
    const mask = bits - i >= 8 ? 255 : (255 << (8 - (bits - i))) & 255;
    if ((bytes[i / 8]! & mask) !== (prefix[i / 8]! & mask)) return false;
  }
  return true;
}

/** The 16 bytes of an IPv6 literal (zone id and an embedded dotted IPv4 tail allowed). */
function v6Bytes(ip: string): number[] {
  let s = ip.replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const b = dotted[1]!.split('.').map(Number);
    s = s.slice(0, dotted.index) + ((b[0]! << 8) | b[1]!).toString(16) + ':' + ((b[2]! << 8) | b[3]!).toString(16);
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return hex(groups.join(':'));
}

/** Why `ip` may not be connected to (e.g. "loopback", "cloud metadata"), or undefined when it is public. */
export function blockedReason(ip: string): string | undefined {
  const bare = ip.startsWith('[') ? ip.slice(1, -1) : ip;
  const kind = net.isIP(bare.replace(/%.*$/, ''));
  if (kind === 4) {
    const b = bare.split('.').map(Number);
    return V4.find((r) => matches(b, r))?.[2];
  }
  if (kind !== 6) return 'not an IP address';
  const b = v6Bytes(bare);
  const embedded = (at: number) => blockedReason(b.slice(at, at + 4).join('.'));
  // IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::) carry an IPv4 address.
  if (matches(b, [hex('0:0:0:0:0:ffff:0:0'), 96, ''])) return embedded(12);
  if (matches(b, [hex('64:ff9b:0:0:0:0:0:0'), 96, ''])) return embedded(12);
  if (matches(b, [hex('2002:0:0:0:0:0:0:0'), 16, ''])) return embedded(2);
  return V6.find((r) => matches(b, r))?.[2];
}

export interface OutboundPolicyOptions {
  /** Refuse loopback, private, link-local, unique-local, CGNAT and metadata addresses (default false). */
  blockPrivate: boolean;
  /** Host names (or IP literals) exempt from the block, lower-case; "*.example.com" matches subdomains. */
  allowHosts: string[];
  /** DNS lookup (default node:dns lookup); injectable so tests resolve names without a network. */
  lookup?: typeof dns.lookup;
}

/** True when `hostname` is on the allow list. */
export function isAllowedHost(hostname: string, allowHosts: string[]): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return allowHosts.some((a) => (a.startsWith('*.') ? h.endsWith(a.slice(1)) : a.replace(/^\[|\]$/g, '') === h));
}

/**
 * Why a URL is refused before any lookup (an IP literal or `localhost` in a blocked range), or
 * undefined. Used at create time for an early 400; the connect-time check is the one that counts.
 */
export function refusedUrl(url: string, o: OutboundPolicyOptions): string | undefined {
  if (!o.blockPrivate) return undefined;
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return undefined;
  }
  if (isAllowedHost(host, o.allowHosts)) return undefined;
  if (host === 'localhost' || host.endsWith('.localhost')) return `${host} is a loopback name, refused by --block-private-targets`;
  if (!net.isIP(host)) return undefined;
  const reason = blockedReason(host);
  return reason && `${host} is a ${reason} address, refused by --block-private-targets`;
}

/** A dns.lookup that drops blocked addresses, and fails with AQ_BLOCKED when none is left. */
export function filteredLookup(lookup: typeof dns.lookup = dns.lookup): net.LookupFunction {
  return (hostname, options, callback) => {
    lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0);
      const list = addresses as dns.LookupAddress[];
      const ok = list.filter((a) => !blockedReason(a.address));
      if (ok.length === 0) {
        const first = list[0];
        const why = first ? `resolves to ${first.address}, a ${blockedReason(first.address)} address` : 'resolves to no address';
        return callback(new BlockedError(`${hostname} ${why}; refused by --block-private-targets`), '', 0);
      }
      if (options.all) (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, ok);
      else callback(null, ok[0]!.address, ok[0]!.family);
    });
  };
}

/**
 * The undici `connect` function enforcing the policy, or undefined when nothing is blocked.
 * IP literals are checked before connecting, names through the filtered lookup, and every
 * socket's remote address once connected.
 */
export function policyConnector(o: OutboundPolicyOptions): buildConnector.connector | undefined {
  if (!o.blockPrivate) return undefined;
  const lookup = o.lookup ?? dns.lookup;
  // Built at the first connection, like the Agent (deliver.ts loads undici on first use).
  let guarded: buildConnector.connector | undefined;
  let exempt: buildConnector.connector | undefined;
  return (opts, callback) => {
    guarded ??= undici().buildConnector({ lookup: filteredLookup(lookup) } as buildConnector.BuildOptions);
    exempt ??= undici().buildConnector({ lookup } as buildConnector.BuildOptions);
    const host = opts.hostname.replace(/^\[|\]$/g, '');
    if (isAllowedHost(host, o.allowHosts)) return exempt(opts, callback);
    const literal = net.isIP(host) ? blockedReason(host) : undefined;
    if (literal) {
      callback(new BlockedError(`${host} is a ${literal} address; refused by --block-private-targets`), null);
      return;
    }
    return guarded(opts, (err, socket) => {
      const reason = socket?.remoteAddress ? blockedReason(socket.remoteAddress) : undefined;
      if (!err && socket && reason) {
        socket.destroy();
        return callback(new BlockedError(`connected to ${socket.remoteAddress}, a ${reason} address; refused by --block-private-targets`), null);
      }
      if (err || !socket) callback(err ?? new Error('no socket'), null);
      else callback(null, socket);
    });
  };
}
