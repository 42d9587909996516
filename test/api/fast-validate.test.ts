// The raw create path's validator against the zod schema it stands in for: whatever it accepts,
// zod accepts with the same data (generated bodies, valid and hostile); on the bounds zod
// declares for each numeric field it agrees both ways; common valid bodies never go to zod.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fastBatch, fastTask } from '../../src/api/fast-validate.js';
import { BatchSchema, CreateTaskSchema } from '../../src/api/schemas.js';

const seed = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));
const field = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const strip = <T extends object>(o: T) => JSON.parse(JSON.stringify(o)) as T;

const common = fc
  .record(
    {
      targetUrl: fc.constantFrom('http://127.0.0.1:9/x', 'https://worker.example.com/jobs/report?x=1#f', 'http://[::1]:8080/a/b'),
      payload: field(fc.jsonValue({ maxDepth: 3 })),
      method: field(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
      headers: field(fc.dictionary(fc.stringMatching(/^[a-zA-Z][a-zA-Z0-9-]{0,10}$/).filter((k) => !['te', 'host', 'upgrade', 'trailer'].includes(k.toLowerCase())), fc.string({ maxLength: 20 }).filter((v) => !/[\r\n\0]/.test(v)), { maxKeys: 4 })),
      webhookUrl: field(fc.constant('https://hooks.example.com/done')),
      webhookRetries: field(fc.integer({ min: 0, max: 100 })),
      retries: field(fc.integer({ min: 0, max: 100 })),
      timeout: field(fc.double({ min: 1, max: 86_400, noNaN: true })),
      backoff: field(fc.record({ initial: fc.integer({ min: 0, max: 100 }), factor: fc.double({ min: 1, max: 100, noNaN: true }), max: fc.integer({ min: 0, max: 604_800 }) }, { requiredKeys: [] })),
      delay: field(fc.double({ min: 0, max: 31_536_000, noNaN: true })),
      queue: field(fc.stringMatching(/^[A-Za-z0-9_.-]{1,64}$/)),
      priority: field(fc.integer({ min: -100, max: 100 })),
      idempotencyKey: field(fc.string({ minLength: 1, maxLength: 200 })),
      labels: field(fc.array(fc.string({ minLength: 1, maxLength: 64 }), { maxLength: 10 })),
    },
    { requiredKeys: ['targetUrl'] },
  )
  .map((t) => strip(t) as Record<string, unknown>);

const hostile = fc.oneof(
  fc.anything({ maxDepth: 2 }),
  fc.constantFrom(-1, 0, 0.5, 1, 100, 101, -100, -101, 1e309, 86_400, 86_401, 604_800, 604_801, 31_536_000, 31_536_001, '', ' ', '1', true, null, [], {}),
  fc.constantFrom('HTTP://a.b/', 'http://user:pw@a.b/', 'http://a.b/@x', 'http://a b/', 'javascript:x', 'ftp://a.b/', 'http://', 'http:///x', 'http://a.b\\c', 'https://ä.example/', '//a.b/', 'http://a.b/' + 'p'.repeat(4100)),
  fc.constantFrom('2026-01-01T00:00:00Z', '2026-13-01T00:00:00Z', '2026-01-01', 'x'.repeat(65), 'a/b', 'q'.repeat(65), '__proto__'),
  fc.constantFrom({ 'x-a': 'b\r\nc' }, { Host: 'x' }, { 'Content-Length': '1' }, { 'a b': 'c' }, { ['__proto__']: 'x' }, { 'x-a': 1 }, Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`x-${i}`, 'v']))),
  fc.constantFrom({ initial: -1 }, { factor: 0.5 }, { max: 604_801 }, { other: 1 }, { initial: '1' }),
  fc.constantFrom(['a'], [''], ['a'.repeat(65)], Array.from({ length: 11 }, () => 'l'), [1]),
);
const mutated = fc
  .tuple(common, fc.constantFrom(...Object.keys(CreateTaskSchema.shape), 'unknownField', '__proto__', 'targetUrl'), hostile, fc.boolean())
  .map(([t, key, value, drop]) => {
    const out: Record<string, unknown> = JSON.parse(JSON.stringify(t));
    if (drop) delete out[key];
    else Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
    return JSON.parse(JSON.stringify(out)) as unknown;
  });

describe('fast create validator', () => {
  it('accepts only what the zod schema accepts, with the same data', () => {
    fc.assert(
      fc.property(fc.oneof(common, mutated, mutated), (body) => {
        const fast = fastTask(structuredClone(body));
        if (fast === undefined) return;
        const z = CreateTaskSchema.safeParse(body);
        expect(z.success).toBe(true);
        expect(fast).toEqual(z.data);
      }),
      { seed, numRuns: 3000 },
    );
  });

  it('takes every common valid body itself (so the fast path is not silently bypassed)', () => {
    fc.assert(
      fc.property(common, (body) => {
        const z = CreateTaskSchema.safeParse(body);
        if (!z.success) return; // e.g. delay and runAt together: zod answers that one
        expect(fastTask(body)).toEqual(z.data);
      }),
      { seed, numRuns: 1000 },
    );
  });

  it("agrees with zod both ways on each numeric field's declared bounds", () => {
    const shape = CreateTaskSchema.shape as Record<string, { unwrap?: () => unknown }>;
    const numeric: [string[], { minValue: number | null; maxValue: number | null; isInt: boolean }][] = [];
    for (const [k, s] of Object.entries(shape)) {
      const inner = s.unwrap?.() as { minValue?: number | null; maxValue?: number | null; isInt?: boolean; shape?: Record<string, { unwrap: () => unknown }> };
      if (inner && typeof inner.minValue !== 'undefined') numeric.push([[k], inner as never]);
      if (inner?.shape) for (const [sub, ss] of Object.entries(inner.shape)) numeric.push([[k, sub], ss.unwrap() as never]);
    }
    expect(numeric.map(([p]) => p.join('.'))).toEqual(expect.arrayContaining(['retries', 'timeout', 'delay', 'priority', 'backoff.factor']));
    for (const [path, n] of numeric) {
      const lo = n.minValue ?? -1e6;
      const hi = n.maxValue ?? 1e6;
      for (const v of [lo - 1, lo - 0.5, lo, lo + 0.5, hi - 0.5, hi, hi + 0.5, hi + 1]) {
        const body: Record<string, unknown> = { targetUrl: 'http://a.example/' };
        if (path.length === 1) body[path[0]!] = v;
        else body[path[0]!] = { [path[1]!]: v };
        const z = CreateTaskSchema.safeParse(body).success;
        expect({ path, v, fast: fastTask(structuredClone(body)) !== undefined }).toEqual({ path, v, fast: z });
      }
    }
  });

  it('leaves unknown fields, odd URLs and malformed shapes to zod', () => {
    for (const body of [
      null, [], 'x', { targetUrl: 'http://a.example/', extra: 1 }, { payload: 1 }, { targetUrl: 'HTTP://a.example/' },
      { targetUrl: 'http://a.example/', delay: 1, runAt: '2026-01-01T00:00:00Z' }, JSON.parse('{"targetUrl":"http://a.example/","__proto__":{"x":1}}'),
      { targetUrl: 'http://a.example/', headers: JSON.parse('{"__proto__":"x"}') },
    ]) {
      expect(fastTask(body)).toBeUndefined();
    }
  });

  it('batches: all known and valid, 1 to the maximum, or zod decides', () => {
    const ok = { tasks: [{ targetUrl: 'http://a.example/' }, { targetUrl: 'https://b.example/', payload: [1] }] };
    expect(fastBatch(structuredClone(ok))).toEqual(BatchSchema.parse(ok).tasks);
    for (const body of [{ tasks: [] }, { tasks: [{ targetUrl: 'http://a.example/' }], more: 1 }, { tasks: [{ targetUrl: 'http://a.example/', retries: -1 }] }, { tasks: Array.from({ length: 1001 }, () => ({ targetUrl: 'http://a.example/' })) }, { tasks: {} }]) {
      expect(fastBatch(body)).toBeUndefined();
    }
    fc.assert(
      fc.property(fc.array(fc.oneof(common, mutated), { minLength: 1, maxLength: 5 }), (tasks) => {
        const fast = fastBatch(structuredClone({ tasks }));
        if (fast === undefined) return;
        const z = BatchSchema.safeParse({ tasks });
        expect(z.success).toBe(true);
        expect(fast).toEqual(z.data!.tasks);
      }),
      { seed, numRuns: 300 },
    );
  });
});
