// How an import recreates a batch (src/store/batch-import.ts), as tables: the places kept for
// members still to come, the new row's values, and when a batch the import made done is put
// back as it was exported (its batch.done not sent again, or sent once).
import { describe, expect, it } from 'vitest';
import type { ImportBatch } from '../../src/shared/transfer.js';
import { batchRowValues, placeholdersOf, restoreOf } from '../../src/store/batch-import.js';

const NOW = 1_800_000_000_000;
const counts = { pending: 0, running: 0, completed: 3, failed: 1, cancelled: 0 };
const done: ImportBatch = {
  id: 'bat_1', total: 4, counts, done: true, createdAt: NOW - 9000, doneAt: NOW - 1000, webhookUrl: 'https://h.example/done', labels: ['a'],
  webhook: { status: 'delivered', attempts: 2, error: null }, outcomes: 1,
};
const open: ImportBatch = { ...done, counts: { ...counts, pending: 1, completed: 2 }, done: false, doneAt: null, webhook: null, outcomes: 0 };

describe('batch import', () => {
  it.each([
    [4, 0, 4],
    [4, 3, 1],
    [4, 4, 0],
    [3, 4, 0], // more members than the total (one came back after a removal): no places, it is counted as one more
  ])('total %i with %i members stored keeps %i places', (total, members, places) => {
    expect(placeholdersOf(total, members)).toBe(places);
  });

  it('a new row counts every member pending, keeps the webhook state but not due, and the done counts only when done', () => {
    expect(batchRowValues(open)).toEqual(['bat_1', 'https://h.example/done', '["a"]', NOW - 9000, 4, 4, 0, null, null, null, null, null, null, 0, null]);
    expect(batchRowValues(done)).toEqual(['bat_1', 'https://h.example/done', '["a"]', NOW - 9000, 4, 4, 1, NOW - 1000, 4, 3, 1, 0, 'delivered', 2, null]);
  });

  it.each([
    ['not made done by this call', done, 1, 1, undefined],
    ['made done, exported done and delivered: put back, not due', done, 1, 2, [1, NOW - 1000, NOW - 1000, 4, 3, 1, 0, 'delivered', 2, null, null]],
    [
      'made done, exported done with its webhook pending: put back, due now',
      { ...done, webhook: { status: 'pending' as const, attempts: 3, error: { type: 'http' as const, status: 503, message: 'HTTP 503' } } },
      1, 2, [1, NOW - 1000, NOW - 1000, 4, 3, 1, 0, 'pending', 3, '{"type":"http","status":503,"message":"HTTP 503"}', NOW],
    ],
    ['made done, exported done without a webhook', { ...done, webhookUrl: null, webhook: null }, 1, 2, [1, NOW - 1000, NOW - 1000, 4, 3, 1, 0, null, 0, null, null]],
    ['made done here only (not done when exported): left to the triggers, its webhook fires', open, 0, 1, undefined],
  ])('%s', (_name, snapshot, before, after, expected) => {
    expect(restoreOf({ snapshot, placeholders: 0, outcomesBefore: before }, after, NOW)).toEqual(expected);
  });

  it('without a snapshot (a line of an older export) nothing is put back', () => {
    expect(restoreOf({ placeholders: 0, outcomesBefore: 0 }, 1, NOW)).toBeUndefined();
  });
});
