// Pure parts of the QStash API: retry-delay expressions, durations and the Upstash-Signature JWT.
import { Receiver } from '@upstash/qstash';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parseQstashDuration } from '../../src/shared/durations.js';
import { generateQstashSigningKey, signQstash } from '../../src/shared/qstash-signing.js';
import { MAX_RETRY_DELAY_MS, parseRetryDelay, RetryDelayError, retryDelayMs } from '../../src/shared/retry-delay.js';

const delay = (src: string, retried: number) => retryDelayMs(parseRetryDelay(src), retried);

describe('Upstash-Retry-Delay expressions', () => {
  test.each([
    ['1000', 0, 1000],
    ['1000 * (1 + retried)', 2, 3000],
    ['pow(2, retried) * 1000', 3, 8000],
    ['max(10, pow(2, retried))', 1, 10],
    ['min(5000, 100 * exp(retried))', 10, 5000],
    ['sqrt(16) + abs(-3) + floor(1.9) + ceil(0.1) + round(2.5)', 0, 4 + 3 + 1 + 1 + 3],
    ['-(-5) * 2 - 4 / 2', 0, 8],
    ['2 - 3 - 4', 0, 0], // left-associative: (2-3)-4 = -5, clamped to 0
    ['10 / 4', 0, 3], // 2.5 rounded
    ['1e3 + .5e1', 0, 1005],
    ['1 / 0', 0, MAX_RETRY_DELAY_MS],
    ['sqrt(-1)', 0, MAX_RETRY_DELAY_MS],
  ])('%s with retried=%i is %i ms', (src, retried, ms) => {
    expect(delay(src, retried)).toBe(ms);
  });

  test.each([
    ['', 'empty'],
    ['retried +', 'end'],
    ['1000 * (1 + retried', 'expected ")"'],
    ['process.exit(1)', 'unexpected character "."'], ['process(1)', 'unknown name "process"'],
    ['constructor', 'unknown name'],
    ['__proto__(1)', 'unknown name'],
    ['pow(2)', 'pow takes 2 arguments'],
    ['abs(1, 2)', 'abs takes 1 argument'],
    ['1 ; 2', 'unexpected character'],
    ['`1`', 'unexpected character'],
    ['1 2', 'unexpected "2"'],
    ['x => 1', 'unexpected character "="'],
    ['(' .repeat(33) + '1' + ')'.repeat(33), 'nested deeper than 32'],
    ['-'.repeat(40) + '1', 'nested deeper than 32'],
    ['1+'.repeat(500) + '1', 'longer than 1000'],
  ])('%j is refused (%s)', (src, message) => {
    expect(() => parseRetryDelay(src)).toThrow(RetryDelayError);
    expect(() => parseRetryDelay(src)).toThrow(message);
  });

  test('32 levels of nesting are accepted', () => {
    expect(delay('('.repeat(32) + 'retried' + ')'.repeat(32), 7)).toBe(7);
  });

  test('any string either parses to an expression whose delay is a bounded integer, or is refused with RetryDelayError', () => {
    const piece = fc.constantFrom('retried', '1', '2.5', '(', ')', '+', '-', '*', '/', ',', 'pow(', 'min(', 'max(', 'exp(', ' ', 'x', ';');
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 60 }), fc.array(piece, { maxLength: 80 }).map((a) => a.join(''))), fc.nat(50), (src, retried) => {
        let tree;
        try {
          tree = parseRetryDelay(src);
        } catch (err) {
          expect(err).toBeInstanceOf(RetryDelayError);
          return;
        }
        const ms = retryDelayMs(tree, retried);
        expect(Number.isInteger(ms) && ms >= 0 && ms <= MAX_RETRY_DELAY_MS).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('QStash durations', () => {
  test.each([
    ['10s', 10], ['5m', 300], ['2h', 7200], ['1d10h30m', 86_400 + 36_000 + 1800], ['90', 90], ['0s', 0], ['1d1s', 86_401],
  ])('%s is %i s', (v, s) => expect(parseQstashDuration(v)).toBe(s));
  test.each(['', 's', '10x', '1.5s', '-1s', '10s5m', '1 d'])('%j is not a duration', (v) => expect(parseQstashDuration(v)).toBeUndefined());
});

describe('Upstash-Signature', () => {
  test("the SDK's Receiver accepts the JWT with either key position and refuses a tampered body or url", async () => {
    const current = generateQstashSigningKey();
    const next = generateQstashSigningKey();
    expect(current).toMatch(/^sig_[1-9A-Za-z]{28}$/);
    const body = '{"hello":"world"}';
    const url = 'http://127.0.0.1:9/target?x=1';
    const now = Math.floor(Date.now() / 1000);
    const receiver = new Receiver({ currentSigningKey: current, nextSigningKey: next });
    expect(await receiver.verify({ signature: signQstash(current, { url, body, now }), body, url })).toBe(true);
    // Signed with the next key (after a rotation): still accepted.
    expect(await receiver.verify({ signature: signQstash(next, { url, body, now }), body })).toBe(true);
    await expect(receiver.verify({ signature: signQstash(current, { url, body, now }), body: body + ' ' })).rejects.toThrow(/body hash/);
    await expect(receiver.verify({ signature: signQstash(current, { url, body, now }), body, url: url + '&y=2' })).rejects.toThrow(/subject/);
    await expect(receiver.verify({ signature: signQstash('sig_other_key_000000000000', { url, body, now }), body })).rejects.toThrow();
    await expect(receiver.verify({ signature: signQstash(current, { url, body, now: now - 3600 }), body })).rejects.toThrow();
  });
});
