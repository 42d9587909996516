// loop.ts: wakes coalesce into one pass, a wake during a pass runs one more, the timer follows
// the injected clock, failures are logged and retried, stop() waits for tracked work.
import { describe, expect, it } from 'vitest';
import { Loop, type LoopOptions, type PassResult } from '../../src/dispatch/loop.js';
import { createLogger } from '../../src/log.js';

function bundle(o: Partial<LoopOptions> = {}) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger('debug', (l) => lines.push(JSON.parse(l)));
  let now = 1_000_000;
  const clock = { now: () => now };
  const passes: number[] = [];
  let waiter: { n: number; resolve: () => void } | undefined;
  /** Resolves once `n` passes have started (no polling). */
  const passed = (n: number) => new Promise<void>((resolve) => (passes.length >= n ? resolve() : (waiter = { n, resolve })));
  let answer: () => Promise<PassResult> = async () => 'done';
  let next: number | null = null;
  const loop = new Loop({
    name: 'test loop', clock, log,
    pass: () => {
      if (passes.push(now) === waiter?.n) waiter.resolve();
      return answer();
    },
    nextAt: async () => next,
    ...o,
  });
  const turn = () => new Promise((r) => setImmediate(r));
  return {
    loop, lines, passes, turn, passed,
    setNow: (t: number) => (now = t),
    answer: (f: () => Promise<PassResult>) => (answer = f),
    next: (t: number | null) => (next = t),
  };
}

describe('Loop', () => {
  it('many wakes in one tick make one pass', async () => {
    const b = bundle();
    for (let i = 0; i < 10; i++) b.loop.wake();
    await b.turn();
    await b.turn();
    expect(b.passes).toHaveLength(1);
    await b.loop.stop();
  });

  it("a wake during a pass runs exactly one more pass after it", async () => {
    const b = bundle();
    let release!: () => void;
    b.answer(() => new Promise<PassResult>((r) => (release = () => r('done'))));
    b.loop.wake();
    await b.turn();
    expect(b.passes).toHaveLength(1);
    b.loop.wake();
    b.loop.wake();
    await b.turn();
    b.answer(async () => 'done');
    release();
    await b.turn();
    await b.turn();
    expect(b.passes).toHaveLength(2);
    await b.loop.stop();
  });

  it("'again' passes again at once; 'busy' neither passes again nor asks for the next time", async () => {
    const b = bundle();
    let n = 0;
    let asked = 0;
    const loop = new Loop({
      name: 'x', clock: { now: () => 0 }, log: createLogger('silent', () => {}),
      pass: async () => (++n < 3 ? 'again' : 'busy'),
      nextAt: async () => (asked++, null),
    });
    loop.wake();
    while (n < 3) await b.turn();
    await b.turn();
    expect([n, asked]).toEqual([3, 0]);
    await loop.stop();
  });

  it('arms one timer for nextAt() measured on the injected clock', async () => {
    const b = bundle();
    b.next(1_000_000 + 30); // 30 ms after "now" on the test clock
    b.loop.wake();
    // The timer is real; the pass it starts is the second one.
    await b.passed(2);
    expect(b.passes).toHaveLength(2);
    await b.loop.stop();
  });

  it('a failing pass is logged with the loop name and tried again after retryMs', async () => {
    const b = bundle({ retryMs: 10 });
    let fail = true;
    b.answer(async () => {
      if (fail) {
        fail = false;
        throw new Error('disk gone');
      }
      return 'done';
    });
    b.loop.wake();
    await b.passed(2);
    expect(b.lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual(['test loop failed; trying again']);
    await b.loop.stop();
  });

  it('stop() waits for tracked work past the grace period once interrupted, and logs a rejection', async () => {
    const b = bundle();
    let finish!: () => void;
    b.loop.track(new Promise<void>((r) => (finish = r)), 'unused');
    b.loop.track(Promise.reject(new Error('boom')), 'bookkeeping failed');
    let interrupted = false;
    const stopped = b.loop.stop(5, () => {
      interrupted = true;
      finish();
    });
    await stopped;
    expect(interrupted).toBe(true);
    expect(b.lines.filter((l) => l.level === 'error').map((l) => l.msg)).toEqual(['bookkeeping failed']);
    b.loop.wake();
    await b.turn();
    expect(b.passes).toHaveLength(0);
  });
});
