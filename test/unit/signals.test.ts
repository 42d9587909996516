import { describe, expect, it } from 'vitest';
// StoreSignals' hold: on PostgreSQL a new row is visible to a claim a moment before its INSERT
// answers, so a task's `running` (or another node's NOTIFY) can reach the store first. Events of
// a held task wait and follow its `pending`, in the order they came.
import { StoreSignals, taskEvent } from '../../src/store/signals.js';
import type { TaskStatus } from '../../src/shared/types.js';

const ev = (id: string, status: TaskStatus, attempts = 0) => taskEvent(id, 'q', status, attempts, 1_000);

function recorder() {
  const signals = new StoreSignals();
  const seen: string[] = [];
  signals.on((events, origin) => seen.push(...events.map((e) => `${e.id}:${e.status}${origin === 'remote' ? ':remote' : ''}`)));
  return { signals, seen };
}

describe('StoreSignals hold', () => {
  const cases: { name: string; steps: (s: StoreSignals) => void; expected: string[] }[] = [
    {
      name: 'nothing held: events go out at once',
      steps: (s) => (s.fire([ev('a', 'running', 1)]), s.created([ev('b', 'pending')])),
      expected: ['a:running', 'b:pending'],
    },
    {
      name: 'a claim announced before the create: pending first, then running',
      steps: (s) => (s.hold(['a']), s.fire([ev('a', 'running', 1)]), s.created([ev('a', 'pending')]), s.release(['a'])),
      expected: ['a:pending', 'a:running'],
    },
    {
      name: 'held events keep their order and origin; other tasks are not held',
      steps: (s) => {
        s.hold(['a']);
        s.fire([ev('a', 'running', 1), ev('b', 'completed', 1)]);
        s.fire([ev('a', 'cancelled', 1)], 'remote');
        s.created([ev('a', 'pending')]);
        s.release(['a']);
      },
      expected: ['b:completed', 'a:pending', 'a:running', 'a:cancelled:remote'],
    },
    {
      name: 'a create that failed releases what was held, with no pending',
      steps: (s) => (s.hold(['a', 'b']), s.fire([ev('b', 'running', 1)]), s.release(['a', 'b'])),
      expected: ['b:running'],
    },
    {
      name: 'after release nothing is held any more',
      steps: (s) => (s.hold(['a']), s.created([ev('a', 'pending')]), s.release(['a']), s.fire([ev('a', 'running', 1)])),
      expected: ['a:pending', 'a:running'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const { signals, seen } = recorder();
      c.steps(signals);
      expect(seen).toEqual(c.expected);
      expect(signals.holding).toBe(0);
    });
  }

  it('holds until release: nothing of a held task goes out before', () => {
    const { signals, seen } = recorder();
    signals.hold(['a']);
    signals.fire([ev('a', 'running', 1)]);
    signals.created([ev('a', 'pending')]);
    expect(seen).toEqual([]);
    expect(signals.holding).toBe(1);
    signals.release(['a']);
    expect(seen).toEqual(['a:pending', 'a:running']);
  });
});
