// Property-based fuzzing of every route with generated hostile requests (fast-check): no 5xx,
// every error in the documented shape, the database unchanged by every refused request, and a
// healthy server afterwards. The seed is printed; replay a failure with FC_SEED=<seed>. Routes
// come from /openapi.json of a --dev server (deliveries, sink, clock included) plus the few it
// does not list; /v2 (QStash) has its own fuzz test.
// Dispatch is stopped first, so no generated task is ever sent anywhere.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../helpers/server.js';

const TOKEN = 'fuzz-token-0123456789abcdef';
// A fixed number of runs, never cut short by a time limit: the same FC_SEED replays the same requests on any machine.
const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const seed = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.constantFrom('', ' ', '..', '../../etc/passwd', '%00', '%ZZ', '%2e%2e%2f', '\u0000', '\uFFFF', '\uD800', '<script>', "' OR 1=1 --", '__proto__', 'constructor', 'tsk_', 'NaN', '-1', '1e309', 'a'.repeat(300)),
);
const hostileValue = fc.oneof(hostileString, fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.anything({ maxDepth: 2 }), { maxLength: 3 }), fc.anything({ maxDepth: 3 }));
const url = fc.oneof(
  fc.constantFrom('http://127.0.0.1:9/x', 'https://127.0.0.1:9/y?z=1#f', 'http://127.0.0.1:9/' + 'p'.repeat(5000)),
  fc.constantFrom('javascript:alert(1)', 'file:///etc/passwd', 'ftp://127.0.0.1/', 'http://user:pw@127.0.0.1/', '//127.0.0.1/', 'http://', 'http://[::1', ''),
  hostileString.map((s) => 'http://127.0.0.1:9/' + s),
);
const field = <T>(valid: fc.Arbitrary<T>) => fc.option(valid, { nil: undefined });
const validTask = fc.record(
  {
    targetUrl: fc.constantFrom('http://127.0.0.1:9/x', 'https://127.0.0.1:9/y?z=1#f'),
    payload: fc.oneof(fc.jsonValue({ maxDepth: 4 }), fc.integer({ min: 1, max: 40 }).map((n) => JSON.parse('['.repeat(n) + ']'.repeat(n)))),
    method: field(fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE')),
    headers: field(fc.dictionary(fc.stringMatching(/^x-[a-z]{1,8}$/), fc.string({ maxLength: 20 }).filter((v) => !/[\r\n\0]/.test(v)), { maxKeys: 4 })),
    webhookUrl: field(fc.constant('http://127.0.0.1:9/hook')),
    retries: field(fc.integer({ min: 0, max: 100 })),
    timeout: field(fc.integer({ min: 1, max: 86_400 })),
    backoff: field(fc.record({ initial: fc.integer({ min: 0, max: 100 }), factor: fc.integer({ min: 1, max: 10 }), max: fc.integer({ min: 0, max: 1000 }) }, { requiredKeys: [] })),
    delay: field(fc.integer({ min: 0, max: 1000 })),
    queue: field(fc.constantFrom('default', 'a', 'b.c', 'Q_1')),
    priority: field(fc.integer({ min: -100, max: 100 })),
    idempotencyKey: field(fc.string({ minLength: 1, maxLength: 20 })),
    labels: field(fc.array(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 3 })),
  },
  { requiredKeys: ['targetUrl'] },
);
/** A valid task with one to three fields replaced by hostile values (or hostile extra fields). */
const task = fc.oneof(
  { weight: 1, arbitrary: validTask },
  {
    weight: 3,
    arbitrary: fc
      .tuple(validTask, fc.array(fc.tuple(fc.constantFrom('targetUrl', 'payload', 'method', 'headers', 'webhookUrl', 'retries', 'timeout', 'backoff', 'delay', 'runAt', 'queue', 'priority', 'idempotencyKey', 'labels', 'webhookRetries', '__proto__', 'extra'), fc.oneof(hostileValue, url)), { minLength: 1, maxLength: 3 }))
      .map(([t, mutations]) => {
        const out: Record<string, unknown> = { ...t };
        for (const [k, v] of mutations) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
        return out;
      }),
  },
);
const body = fc.oneof(
  { weight: 4, arbitrary: task.map((t) => JSON.stringify(t)) },
  { weight: 2, arbitrary: fc.array(task, { maxLength: 4 }).map((tasks) => JSON.stringify({ tasks })) },
  { weight: 2, arbitrary: fc.record({ ids: field(fc.array(hostileString, { maxLength: 5 })), status: field(fc.constantFrom('failed', 'pending', 'bogus')), queue: field(hostileString), label: field(hostileString), createdBefore: field(hostileString) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: fc.record({ concurrency: hostileValue, ratePerSecond: hostileValue, paused: hostileValue }, { requiredKeys: [] }).map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: fc.record({ by: hostileValue, to: hostileValue, seconds: hostileValue }, { requiredKeys: [] }).map((b) => JSON.stringify(b)) },
  { weight: 1, arbitrary: fc.record({ webhookStatus: fc.oneof(fc.constantFrom('failed', 'delivered', 'pending'), hostileString), ids: field(fc.array(hostileString, { maxLength: 3 })) }, { requiredKeys: [] }).map((b) => JSON.stringify(b)) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '{', '[]', 'null', '{"__proto__":{"polluted":1},"targetUrl":"http://127.0.0.1:9/"}', '{"constructor":{"prototype":{"x":1}}}', '{"targetUrl":"http://127.0.0.1:9/","targetUrl":1}', '\uFEFF{}', '"\\ud800"', '1'.repeat(400), '{"a":' + '['.repeat(20_000) + ']'.repeat(20_000) + '}') },
  { weight: 1, arbitrary: fc.constant(undefined) },
);
/** encodeURIComponent that survives lone surrogates (sent as raw invalid UTF-8 bytes). */
const enc = (s: string) => {
  try {
    return encodeURIComponent(s);
  } catch {
    return '%ED%A0%80';
  }
};
const segment = fc.oneof(hostileString.map(enc), hostileString.filter((s) => !/[/?#\s]/.test(s)), fc.constantFrom('tsk_00000000000000000000000000', '%', '%zz', '..', '.'));
const query = fc.dictionary(
  fc.constantFrom('wait', 'limit', 'cursor', 'status', 'queue', 'label', 'id', 'webhookStatus', 'next', 'x'),
  fc.oneof(fc.constantFrom('0', '0.01', '-1', '61', '1e9', '0x10', '+1', 'NaN', 'Infinity', '', 'pending', 'bogus', 'eyJ4IjoxfQ', '/%09/evil.example', '//evil'), hostileString.map(enc)),
  { maxKeys: 3 },
);

interface Route { method: string; path: string }

async function routes(s: TestServer): Promise<Route[]> {
  const doc = (await s.api('/openapi.json')).body;
  // Routes that /openapi.json does not list: the dashboard, the sink's receiver (any method) and
  // its event stream.
  const out: Route[] = [
    { method: 'GET', path: '/' }, { method: 'GET', path: '/openapi.json' }, { method: 'GET', path: '/nope' },
    { method: 'POST', path: '/_sink/{name}' }, { method: 'PUT', path: '/_sink/{name}/deeper/path' }, { method: 'GET', path: '/v1/sink/{name}/events' },
  ];
  // The QStash-compatible /v2 routes answer in QStash's error shape; test/qstash/qstash.fuzz.test.ts fuzzes them.
  for (const [path, ops] of Object.entries(doc.paths as Record<string, object>)) if (!path.startsWith('/v2/')) for (const m of Object.keys(ops)) out.push({ method: m.toUpperCase(), path });
  return out;
}

/** What /v1/stats, /v1/tasks and /v1/queues would answer, read from the store in-process (fast). */
async function snapshot(s: TestServer) {
  const stats = await s.store.stats(Date.now());
  const list = (await s.store.listTasks({ limit: 500 })).tasks.map((t) => `${t.id}:${t.status}:${t.attempts}:${t.updatedAt}`);
  const queues = await s.store.listQueues();
  return JSON.stringify({ counts: stats.counts, queues: stats.queues, list, q: queues });
}

describe('fuzzing every route with hostile requests', () => {
  it('never answers 5xx, always in the error shape, and refused requests change nothing', { timeout: 90_000 }, async () => {
    console.log(`fuzz seed: ${seed} (replay: FC_SEED=${seed} npx vitest run test/hardening/fuzz.api.test.ts)`);
    // --dev with the virtual clock: the sink and clock routes are fuzzed too.
    const s = await startServer({ token: TOKEN, maxBody: '256kb', maxDepth: 16, durability: 'normal', dev: true, clock: 'virtual' });
    await s.scheduler.stop(0); // nothing is dispatched: the database changes only through the API
    const known = await routes(s);
    const ids: string[] = [];
    const seen = new Map<number, number>();
    let tried = 0;
    let before = await snapshot(s);

    const request = fc.record({
      route: fc.oneof(fc.constantFrom(...known), fc.constantFrom(...known.filter((r) => r.method !== 'GET'))),
      method: fc.oneof({ weight: 5, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD') }),
      param: fc.option(segment, { freq: 2, nil: undefined }),
      useKnownId: fc.boolean(),
      query,
      auth: fc.oneof({ weight: 9, arbitrary: fc.constant(`Bearer ${TOKEN}`) }, { weight: 1, arbitrary: fc.constantFrom(undefined, '', 'Bearer', `Bearer ${TOKEN}x`, `bearer  ${TOKEN}`, `Basic ${TOKEN}`) }),
      contentType: fc.oneof({ weight: 8, arbitrary: fc.constant('application/json') }, { weight: 2, arbitrary: fc.constantFrom(undefined, 'text/plain', 'application/json; charset=utf-16', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/problem+json') }),
      idempotencyKey: fc.option(
        fc.oneof(
          fc.string({ maxLength: 210 }).filter((k) => /^[\x20-\x7e]*$/.test(k)),
          // bytes as Node reads them: UTF-8 of non-ASCII text, and Latin-1 bytes that are not UTF-8
          fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).map((k) => Buffer.from(k, 'utf8').toString('latin1')),
          fc.constantFrom('\xff\xfe', '\xc3', 'caf\xe9'),
        ),
        { freq: 5, nil: undefined },
      ),
      requestId: fc.option(fc.oneof(hostileString.filter((v) => /^[\x20-\x7e]*$/.test(v)), fc.constant('a'.repeat(100))), { freq: 8, nil: undefined }),
      body,
    });

    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        tried++;
        const method = r.method ?? r.route.method;
        const id = r.useKnownId && ids.length > 0 ? ids[tried % ids.length]! : (r.param ?? 'tsk_missing');
        const path = r.route.path.replace(/\{[^}]+\}/g, id);
        const qs = Object.entries(r.query).map(([k, v]) => `${k}=${v}`).join('&');
        const headers: Record<string, string> = {};
        if (r.auth !== undefined) headers.authorization = r.auth;
        if (r.contentType) headers['content-type'] = r.contentType;
        if (r.idempotencyKey !== undefined) headers['idempotency-key'] = r.idempotencyKey;
        if (r.requestId !== undefined) headers['x-request-id'] = r.requestId;
        const hasBody = r.body !== undefined && method !== 'GET' && method !== 'HEAD';
        const res = await fetch(`${s.url}${path}${qs ? '?' + qs : ''}`, { method, headers, body: hasBody ? r.body : undefined });
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        const streaming = (res.headers.get('content-type') ?? '').startsWith('text/event-stream');
        const text = streaming ? (await res.body?.cancel(), '') : await res.text();
        expect(res.status, `${method} ${path}?${qs} → ${text.slice(0, 300)}`).toBeLessThan(500);
        if (res.status >= 400 && method !== 'HEAD') {
          const parsed = JSON.parse(text);
          expect(Object.keys(parsed)).toEqual(['error']);
          expect(typeof parsed.error.code).toBe('string');
          expect(typeof parsed.error.message).toBe('string');
          expect(Object.keys(parsed.error).every((k) => ['code', 'message', 'details'].includes(k))).toBe(true);
          if ('details' in parsed.error) expect(Array.isArray(parsed.error.details)).toBe(true);
          expect(text).not.toMatch(/\bat .+\.(ts|js):\d+|SqliteError|TypeError|ZodError/);
          expect(text).not.toContain(TOKEN);
          const after = await snapshot(s);
          expect(after, `refused ${method} ${path} changed the database`).toBe(before);
        } else {
          if (res.status === 201 || res.status === 200) {
            try {
              const b = JSON.parse(text);
              if (typeof b?.id === 'string' && b.id.startsWith('tsk_')) ids.push(b.id);
              for (const t of b?.tasks ?? []) if (typeof t?.id === 'string') ids.push(t.id);
            } catch {
              // not JSON (metrics, dashboard)
            }
          }
          before = await snapshot(s);
        }
      }),
      { seed, numRuns: RUNS, endOnFailure: true },
    );

    const statuses = [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}×${v}`).join(' ');
    console.log(`fuzz: ${tried} hostile requests, statuses ${statuses}, ${ids.length} tasks created`);
    expect(tried).toBe(RUNS);
    expect((await s.api('/healthz')).body).toEqual({ ok: true });
    expect(s.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
    const ok = await s.api('/v1/tasks', { body: { targetUrl: 'http://127.0.0.1:9/after' } });
    expect(ok.status).toBe(201);
  });
});
