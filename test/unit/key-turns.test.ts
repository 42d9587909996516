// planTurns (store/key-turns.ts) as a table: which groups a claim serves, how many each, and
// where the next claim starts.
import { describe, expect, it } from 'vitest';
import { keysAtCap, planTurns, type KeyGroup } from '../../src/store/key-turns.js';

const cases: { name: string; candidates: KeyGroup[]; running?: Record<string, number>; k: number; slots: number; take: [KeyGroup, number][]; last: KeyGroup | undefined }[] = [
  { name: 'one slot goes to the first group in turn', candidates: ['b', 'c', 'a'], k: 5, slots: 1, take: [['b', 1]], last: 'b' },
  { name: 'slots go round one per group before any group gets a second', candidates: ['a', 'b', 'c'], k: 5, slots: 5, take: [['a', 2], ['b', 2], ['c', 1]], last: 'b' },
  { name: 'a key at its cap is passed over', candidates: ['a', 'b'], running: { a: 2 }, k: 2, slots: 3, take: [['b', 2]], last: 'b' },
  { name: 'a key near its cap gets only what is left of it', candidates: ['a', 'b'], running: { a: 1 }, k: 2, slots: 4, take: [['a', 1], ['b', 2]], last: 'b' },
  { name: 'the unkeyed group has no cap', candidates: ['a', null], k: 1, slots: 4, take: [['a', 1], [null, 3]], last: null },
  { name: 'nothing to give: no groups', candidates: [], k: 3, slots: 4, take: [], last: undefined },
  { name: 'nothing to give: every key at its cap', candidates: ['a', 'b'], running: { a: 1, b: 3 }, k: 1, slots: 4, take: [], last: undefined },
  { name: 'no slots', candidates: ['a'], k: 3, slots: 0, take: [], last: undefined },
];

describe('planTurns', () => {
  for (const c of cases) {
    it(c.name, () => {
      const plan = planTurns({ candidates: c.candidates, running: new Map(Object.entries(c.running ?? {})), keyConcurrency: c.k, slots: c.slots });
      expect([...plan.take]).toEqual(c.take);
      expect(plan.last).toBe(c.last);
    });
  }

  it('keysAtCap counts the keys a claim must look past', () => {
    expect(keysAtCap(new Map([['a', 2], ['b', 1], ['c', 5]]), 2)).toBe(2);
    expect(keysAtCap(new Map(), 1)).toBe(0);
  });
});
