// The CLI's human formatting: tables, relative times, colour decisions, progress lines.
import { describe, expect, it } from 'vitest';
import { ago, duration, Output, table, visibleWidth, wantsColor } from '../../src/cli/format.js';
import { progressLine } from '../../src/cli/progress.js';
import { checkLine } from '../../src/cli/import.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');

describe('ago', () => {
  it.each([
    ['2025-06-01T12:00:00Z', 'just now'],
    ['2025-06-01T11:59:57Z', '3s ago'],
    ['2025-06-01T11:55:00Z', '5m ago'],
    ['2025-06-01T09:00:00Z', '3h ago'],
    ['2025-05-29T12:00:00Z', '3d ago'],
    ['2025-06-01T12:00:05Z', 'in 5s'],
  ])('%s is "%s"', (iso, text) => {
    expect(ago(iso, NOW)).toBe(text);
  });

  it('shows a dash for no time', () => {
    expect(ago(null, NOW)).toBe('-');
  });
});

describe('duration', () => {
  it.each([
    [850, '850ms'],
    [1234, '1.2s'],
    [125_000, '2m05s'],
  ])('%d ms is "%s"', (ms, text) => {
    expect(duration(ms)).toBe(text);
  });
});

describe('table', () => {
  it('aligns columns, right-aligns the numeric ones and never pads the last', () => {
    const lines = table(['ID', 'N', 'TARGET'], [['tsk_1', '7', 'http://a'], ['tsk_10', '12', 'http://bb']], { right: [1] });
    expect(lines).toEqual(['ID       N  TARGET', 'tsk_1    7  http://a', 'tsk_10  12  http://bb']);
  });

  it('measures cells by their visible width, ignoring colour codes', () => {
    const red = '\x1b[31mfailed\x1b[0m';
    expect(visibleWidth(red)).toBe(6);
    expect(table(['STATUS', 'Q'], [[red, 'a'], ['ok', 'b']])[2]).toBe('ok      b');
  });
});

describe('colour', () => {
  it('is used only on a TTY and never with NO_COLOR or TERM=dumb', () => {
    expect(wantsColor({ isTTY: true }, {})).toBe(true);
    expect(wantsColor({ isTTY: false }, {})).toBe(false);
    expect(wantsColor({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(wantsColor({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(wantsColor({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
  });

  it('leaves text plain when the stream is not a TTY', () => {
    const out = new Output({ isTTY: false } as never, { isTTY: false } as never, {});
    expect(out.status('failed')).toBe('failed');
  });
});

describe('progressLine', () => {
  it('shows bar, percentage, count, rate and ETA when the total is known', () => {
    expect(progressLine(4500, 450, 1000, 2000, 'tasks')).toBe('[###########-------------]   45%  4,500 tasks  2,250/s  ETA 3s');
  });

  it('shows only count and rate from standard input', () => {
    expect(progressLine(100, 5000, undefined, 1000, 'tasks')).toBe('100 tasks  100/s');
  });
});

describe('checkLine', () => {
  it('accepts an object with a targetUrl and names what is wrong otherwise', () => {
    expect(checkLine({ targetUrl: 'http://a' })).toBeUndefined();
    expect(checkLine([1])).toBe('expected a JSON object');
    expect(checkLine(null)).toBe('expected a JSON object');
    expect(checkLine({ payload: 1 })).toBe('missing "targetUrl"');
  });
});
