// Standard Webhooks signing: ours against the independent `standardwebhooks` package in both
// directions, and the refusals (stale, tampered, wrong secret, empty secret).
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateSecret, sign } from '../../src/shared/signing.js';
import { verifySignature } from '../../src/index.js';

const NOW = 1_750_000_000_000;
const NOW_S = NOW / 1000;

function signed(secret: string, body: string, at = NOW_S, id = 'tsk_01') {
  return { 'webhook-id': id, 'webhook-timestamp': String(at), 'webhook-signature': sign(secret, id, at, body) };
}

describe('verifySignature and the standardwebhooks package', () => {
  it('accepts a request signed by standardwebhooks', () => {
    const secret = generateSecret();
    const body = JSON.stringify({ hello: 'wörld', n: 1 });
    const at = new Date();
    const signature = new Webhook(secret).sign('msg_1', at, body);
    const headers = { 'webhook-id': 'msg_1', 'webhook-timestamp': String(Math.floor(at.getTime() / 1000)), 'webhook-signature': signature };
    expect(verifySignature({ secret, headers, body })).toBe(true);
  });

  it('signs requests that standardwebhooks verifies', () => {
    const secret = generateSecret();
    const body = '{"id":"tsk_01","status":"completed"}';
    const headers = signed(secret, body, Math.floor(Date.now() / 1000));
    expect(new Webhook(secret).verify(body, headers)).toEqual({ id: 'tsk_01', status: 'completed' });
  });

  it('agrees with standardwebhooks on a tampered body', () => {
    const secret = generateSecret();
    const headers = signed(secret, '{"a":1}', Math.floor(Date.now() / 1000));
    expect(() => new Webhook(secret).verify('{"a":2}', headers)).toThrow();
    expect(verifySignature({ secret, headers, body: '{"a":2}' })).toBe(false);
  });
});

describe('verifySignature', () => {
  const secret = generateSecret();
  const body = '{"ok":true}';

  it('accepts a fresh signature, from a plain object, a Headers object or a Uint8Array body', () => {
    const headers = signed(secret, body);
    expect(verifySignature({ secret, headers, body, now: NOW })).toBe(true);
    expect(verifySignature({ secret, headers: new Headers(headers), body, now: NOW })).toBe(true);
    expect(verifySignature({ secret, headers, body: new TextEncoder().encode(body), now: NOW })).toBe(true);
  });

  it('reads header names case-insensitively and array values as Node gives them', () => {
    const h = signed(secret, body);
    const headers = { 'Webhook-Id': h['webhook-id'], 'WEBHOOK-TIMESTAMP': [h['webhook-timestamp']], 'webhook-signature': h['webhook-signature'] };
    expect(verifySignature({ secret, headers, body, now: NOW })).toBe(true);
  });

  it('accepts when any one of several space-separated signatures matches (secret rotation)', () => {
    const h = signed(secret, body);
    const other = sign(generateSecret(), 'tsk_01', NOW_S, body);
    const headers = { ...h, 'webhook-signature': `v2,abc ${other} ${h['webhook-signature']}` };
    expect(verifySignature({ secret, headers, body, now: NOW })).toBe(true);
  });

  it('rejects timestamps older or newer than the tolerance', () => {
    const headers = signed(secret, body);
    expect(verifySignature({ secret, headers, body, now: NOW + 301_000 })).toBe(false);
    expect(verifySignature({ secret, headers, body, now: NOW - 301_000 })).toBe(false);
    expect(verifySignature({ secret, headers, body, now: NOW + 299_000 })).toBe(true);
    expect(verifySignature({ secret, headers, body, now: NOW + 20_000, tolerance: 10 })).toBe(false);
  });

  it('rejects a wrong secret, another id, a changed timestamp and a changed body', () => {
    const headers = signed(secret, body);
    expect(verifySignature({ secret: generateSecret(), headers, body, now: NOW })).toBe(false);
    expect(verifySignature({ secret, headers: { ...headers, 'webhook-id': 'tsk_02' }, body, now: NOW })).toBe(false);
    expect(verifySignature({ secret, headers: { ...headers, 'webhook-timestamp': String(NOW_S + 1) }, body, now: NOW })).toBe(false);
    expect(verifySignature({ secret, headers, body: body + ' ', now: NOW })).toBe(false);
  });

  it('rejects missing headers and malformed values without throwing', () => {
    const headers = signed(secret, body);
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const { [name]: _, ...rest } = headers;
      expect(verifySignature({ secret, headers: rest, body, now: NOW })).toBe(false);
    }
    expect(verifySignature({ secret, headers: { ...headers, 'webhook-timestamp': '17e8' }, body, now: NOW })).toBe(false);
    expect(verifySignature({ secret, headers: { ...headers, 'webhook-signature': 'v1,' }, body, now: NOW })).toBe(false);
    expect(verifySignature({ secret, headers: { ...headers, 'webhook-signature': 'garbage' }, body, now: NOW })).toBe(false);
  });

  it('never verifies with an empty or missing secret, even against a signature made with an empty key', () => {
    const forged = { 'webhook-id': 'tsk_01', 'webhook-timestamp': String(NOW_S), 'webhook-signature': sign(Buffer.alloc(0), 'tsk_01', NOW_S, body) };
    for (const bad of ['', 'whsec_', undefined as unknown as string]) {
      expect(verifySignature({ secret: bad, headers: forged, body, now: NOW })).toBe(false);
    }
  });
});
