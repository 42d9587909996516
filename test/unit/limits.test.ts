// limits.ts: global and per-queue slots, token buckets, pause, and the fair sharing of free
// slots across due queues. `now` is passed in; no timers.
import { describe, expect, it } from 'vitest';
import { Limits } from '../../src/dispatch/limits.js';
import type { QueueLimits } from '../../src/store/store.js';

const q = (name: string, o: Partial<QueueLimits> = {}): QueueLimits => ({ name, concurrency: null, ratePerSecond: null, paused: false, ...o });

describe('Limits', () => {
  it('counts global slots as attempts start and finish', () => {
    const l = new Limits(4);
    l.setQueues([q('a')]);
    expect(l.free()).toBe(4);
    l.acquire('a', 3, 0);
    expect([l.total, l.free(), l.inFlightOf('a')]).toEqual([3, 1, 3]);
    l.release('a');
    expect([l.total, l.free(), l.inFlightOf('a')]).toEqual([2, 2, 2]);
    l.release('a');
    l.release('a');
    expect([l.total, l.free(), l.inFlightOf('a')]).toEqual([0, 4, 0]);
  });

  it("a queue's capacity is its concurrency minus its attempts in flight", () => {
    const l = new Limits(100);
    l.setQueues([q('a', { concurrency: 3 }), q('b')]);
    expect(l.capacityOf('a', 0)).toBe(3);
    expect(l.capacityOf('b', 0)).toBe(Infinity);
    l.acquire('a', 3, 0);
    expect(l.capacityOf('a', 0)).toBe(0);
    expect(l.openQueues()).toEqual(['b']);
  });

  it('a paused queue has no capacity and is not open', () => {
    const l = new Limits(10);
    l.setQueues([q('a', { paused: true }), q('b')]);
    expect(l.capacityOf('a', 0)).toBe(0);
    expect(l.openQueues()).toEqual(['b']);
  });

  it('an unknown queue has no limits of its own', () => {
    const l = new Limits(10);
    expect(l.capacityOf('new', 0)).toBe(Infinity);
  });

  it('a rate-limited queue starts a burst, then waits for its next token', () => {
    const l = new Limits(100);
    l.setQueues([q('r', { ratePerSecond: 20 })]);
    expect(l.capacityOf('r', 0)).toBe(2);
    expect(l.tokenWaitUntil('r', 0)).toBeUndefined();
    l.acquire('r', 2, 0);
    expect(l.capacityOf('r', 0)).toBe(0);
    expect(l.tokenWaitUntil('r', 0)).toBe(50);
    expect(l.capacityOf('r', 50)).toBe(1);
    expect(l.tokenWaitUntil('q-without-rate', 0)).toBeUndefined();
  });

  it('a cleared rate limit forgets its bucket', () => {
    const l = new Limits(100);
    l.setQueues([q('r', { ratePerSecond: 1 })]);
    l.acquire('r', 1, 0);
    expect(l.capacityOf('r', 0)).toBe(0);
    l.setQueues([q('r')]);
    expect(l.capacityOf('r', 0)).toBe(Infinity);
  });

  it.each([
    // global, queue limits, due, in flight per queue, expected allocation
    [4, [q('a'), q('b')], ['a', 'b'], {}, { a: 2, b: 2 }],
    [4, [q('a', { concurrency: 1 }), q('b')], ['a', 'b'], {}, { a: 1, b: 3 }],
    [5, [q('a'), q('b'), q('c', { concurrency: 1 })], ['a', 'b', 'c'], {}, { c: 1, a: 2, b: 2 }],
    [4, [q('a'), q('b', { paused: true })], ['a', 'b'], {}, { a: 4 }],
    [4, [q('a'), q('b')], ['a', 'b'], { a: 4 }, {}],
    [10, [q('a', { concurrency: 3 })], ['a'], { a: 1 }, { a: 2 }],
    [100, [q('r', { ratePerSecond: 20 }), q('x')], ['r', 'x'], {}, { r: 2, x: 98 }],
  ])('with %i slots, queues %j due %j and in flight %j: %j', (global, queues, due, inFlight, expected) => {
    const l = new Limits(global);
    l.setQueues(queues);
    for (const [name, n] of Object.entries(inFlight)) l.acquire(name, n, 0);
    expect(Object.fromEntries(l.allocate(due, 0))).toEqual(expected);
  });

  it('with fewer slots than due queues, the first pick rotates so none is starved', () => {
    const l = new Limits(1);
    l.setQueues([q('a'), q('b'), q('c')]);
    const picks = [0, 1, 2, 3, 4, 5].map(() => [...l.allocate(['a', 'b', 'c'], 0).keys()].join());
    expect(new Set(picks)).toEqual(new Set(['a', 'b', 'c']));
  });
});
