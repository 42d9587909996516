// The logger's lines: flat entries (the per-task lines) are written without building an object;
// each must be the very text the general path (mask, spread, JSON.stringify) gives.
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { maskFields } from '../../src/shared/mask.js';

const noTime = (line: string) => line.replace(/"time":"[^"]*"/, '"time":"T"');

function general(msg: string, fields: Record<string, unknown>): string {
  const entry: Record<string, unknown> = { time: 'T', level: 'info', msg, ...(maskFields(fields) as Record<string, unknown>) };
  const err = entry.err;
  if (err instanceof Error) entry.err = { message: err.message, stack: err.stack, code: (err as { code?: unknown }).code };
  return JSON.stringify(entry) + '\n';
}

const cases: [string, Record<string, unknown>][] = [
  ['task completed', { task: 'tsk_1', queue: 'default', attempt: 1, status: 200, error: undefined }],
  ['quotes "and" \\ \u2028 é\n', { queue: 'q"\\\u2028x\u0001', n: -0, big: 1e21, nan: NaN, yes: true, no: false }],
  ['credential field', { token: 'abcdefghijklmnopqrstu', apiKey: 'short' }],
  ['a field named like the entry', { level: 'x', msg: 'y', time: 'z' }],
  ['integer-like name', { 1: 'x', a: 2 }],
  ['error', { err: new Error('boom'), task: 't' }],
  ['nested', { o: { p: 1, secret: 'abcdefghijklmnopqrstu' }, list: [1, 'a'] }],
  ['null', { v: null }],
  ['empty', {}],
];

describe('log lines', () => {
  it.each(cases)('%s: the same text as the general path', (msg, fields) => {
    let line = '';
    createLogger('info', (l) => (line = l)).info(msg, fields);
    expect(noTime(line)).toBe(noTime(general(msg, fields)));
    expect(() => JSON.parse(line)).not.toThrow();
  });

  it('writes nothing below its level', () => {
    const lines: string[] = [];
    const log = createLogger('warn', (l) => lines.push(l));
    log.info('task created', { task: 't' });
    log.warn('w', { task: 't' });
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['w']);
  });
});
