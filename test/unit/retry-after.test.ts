// retry-after.ts: Retry-After (RFC 9110 §10.2.3) as a table of (header, now) → delay in ms.
import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../src/dispatch/retry-after.js';

const NOW = Date.parse('2015-10-21T07:27:55Z');

describe('parseRetryAfter', () => {
  it.each([
    ['1', 1_000],
    ['0', 0],
    ['120', 120_000],
    [' 30 ', 30_000],
    ['Wed, 21 Oct 2015 07:28:00 GMT', 5_000],
    ['Wed, 21 Oct 2015 07:27:00 GMT', 0],
    ['Thursday, 22-Oct-15 07:27:55 GMT', 86_400_000],
  ])('%j at a fixed now is %i ms', (header, ms) => {
    expect(parseRetryAfter(header, NOW)).toBe(ms);
  });

  it.each([[undefined], [null], [''], ['   '], ['-1'], ['1.5'], ['soon'], ['1e3'], ['12:00']])('%j is ignored', (header) => {
    expect(parseRetryAfter(header, NOW)).toBeUndefined();
  });
});
