// Property-based fuzzing of the QStash-compatible `/v2` routes and `Upstash-*` headers
// (fast-check): hostile retry-delay expressions, enormous header values, destinations with
// credentials or odd schemes, hostile bodies and queries. Never a 5xx, errors always QStash's
// `{"error": "…"}`, and a refused request changes nothing. Dispatch is stopped first.
// The seed is printed; replay a failure with FC_SEED=<seed>.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { startServer, testStore, type TestServer } from '../helpers/server.js';

const TOKEN = 'fuzz-qstash-token-0123456789';
const RUNS = Number(process.env.FUZZ_RUNS ?? 1500);
const seed = Number(process.env.FC_SEED ?? Math.floor(Math.random() * 2 ** 31));

const hostile = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', ' ', '..', '%00', '%ZZ', '\u0000', '<script>', "' OR 1=1 --", '__proto__', 'constructor', 'NaN', '-1', '1e309', 'a'.repeat(300)),
);
/** Header values must be ISO-8859-1 without CR/LF/NUL to be sent at all. */
const headerSafe = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');
const retryDelay = fc.oneof(
  fc.constantFrom('1000', '1000 * (1 + retried)', 'pow(2, retried) * 1000', 'max(10, pow(2, retried))', 'min(1, 2, 3)'),
  fc.constantFrom('process.exit(1)', 'require("fs")', 'this', '1;2', '(', ')', '1/0', 'pow(2)', 'retried retried', '__proto__(1)', 'constructor.constructor("x")()'),
  fc.integer({ min: 1, max: 60 }).map((n) => '('.repeat(n) + 'retried' + ')'.repeat(n)),
  fc.integer({ min: 1, max: 60 }).map((n) => 'abs('.repeat(n) + '1' + ')'.repeat(n)),
  fc.integer({ min: 900, max: 1200 }).map((n) => '1'.repeat(n)),
  fc.array(fc.constantFrom('retried', '1', '+', '-', '*', '/', '(', ')', ',', 'pow(', 'exp(', 'min(', ' '), { maxLength: 60 }).map((a) => a.join('')),
);
const duration = fc.oneof(fc.constantFrom('10s', '1d10h30m', '0s', '5m', '90', '-1s', '1.5s', 's', '999999999999d', ''), hostile);
const headerValue = (name: string): fc.Arbitrary<[string, string]> =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.constant('x'.repeat(15_000)) }, // over the 16 KiB header limit with the rest
    { weight: 3, arbitrary: hostile },
  ).map((v) => [name, headerSafe(v ?? '')]);
const upstashHeaders = fc
  .record(
    {
      method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'TRACE', 'post', ''),
      delay: duration,
      notBefore: fc.oneof(fc.constantFrom(String(Math.floor(Date.now() / 1000) + 60), '0', '99999999999999', '-5'), hostile),
      retries: fc.oneof(fc.constantFrom('0', '3', '100', '101', '-1', '1.5'), hostile),
      retryDelay,
      timeout: duration,
      callback: fc.constantFrom('http://127.0.0.1:9/cb', 'http://user:pw@127.0.0.1:9/cb', 'ftp://x', 'nope'),
      failureCallback: fc.constantFrom('http://127.0.0.1:9/fail', 'javascript:alert(1)'),
      dedup: fc.oneof(fc.constantFrom('d-1', 'd-2', 'x'.repeat(201)), hostile),
      contentDedup: fc.constantFrom('true', 'false', 'yes'),
      label: fc.oneof(fc.constantFrom('a', 'a,b', Array.from({ length: 12 }, (_, i) => `l${i}`).join(','), 'x'.repeat(70)), hostile),
      forward: fc.constantFrom('x-tenant', 'authorization', 'host', 'connection', 'transfer-encoding', 'content-length'),
      forwardValue: hostile,
      fcKey: fc.oneof(fc.constantFrom('tenant-1', 'a b', 'x'.repeat(70)), hostile),
      fcValue: fc.constantFrom('parallelism=2', 'rate=10, period=1m', 'parallelism=0', 'bogus', 'rate=abc', ''),
      cron: fc.constantFrom('* * * * *', 'CRON_TZ=Europe/Berlin 0 3 * * *', 'CRON_TZ=Nowhere/Zone 0 3 * * *', 'not cron', '61 * * * *'),
      scheduleId: fc.constantFrom('s1', 's.2', 'bad id', 'x'.repeat(70)),
      queueName: fc.constantFrom('q1', 'bad queue', ''),
      contentType: fc.constantFrom('application/json', 'text/plain', 'application/octet-stream'),
      huge: headerValue('upstash-forward-x-huge').map(([, v]) => v),
    },
    { requiredKeys: [] },
  )
  .map((h) => {
    const out: Record<string, string> = {};
    const set = (k: string, v: string | undefined) => {
      if (v !== undefined && v !== '') out[k] = headerSafe(v);
    };
    set('upstash-method', h.method);
    set('upstash-delay', h.delay);
    set('upstash-not-before', h.notBefore);
    set('upstash-retries', h.retries);
    set('upstash-retry-delay', h.retryDelay);
    set('upstash-timeout', h.timeout);
    set('upstash-callback', h.callback);
    set('upstash-failure-callback', h.failureCallback);
    set('upstash-deduplication-id', h.dedup);
    set('upstash-content-based-deduplication', h.contentDedup);
    set('upstash-label', h.label);
    if (h.forward) set(`upstash-forward-${h.forward}`, h.forwardValue ?? 'v');
    set('upstash-flow-control-key', h.fcKey);
    set('upstash-flow-control-value', h.fcValue);
    set('upstash-cron', h.cron);
    set('upstash-schedule-id', h.scheduleId);
    set('upstash-queue-name', h.queueName);
    set('content-type', h.contentType);
    set('upstash-forward-x-huge', h.huge);
    return out;
  });

const destination = fc.oneof(
  fc.constantFrom('http://127.0.0.1:9/x', 'https://127.0.0.1:9/y?z=1&qstash_token=leak', 'http://127.0.0.1:9/' + 'p'.repeat(5000), 'http%3A%2F%2F127.0.0.1%3A9%2Fenc'),
  fc.constantFrom('http://user:pw@127.0.0.1:9/', 'javascript:alert(1)', 'file:///etc/passwd', 'ftp://127.0.0.1/', 'http://', 'http:/127.0.0.1:9/one-slash', 'group1', 'missing-group', 'bad group', ''),
  hostile.map((s) => encodeURIComponent(s)),
);
const name = fc.oneof(fc.constantFrom('q1', 'group1', 'tenant-1', 's1', 'tsk_missing', '%zz', '..'), hostile.map((s) => encodeURIComponent(s)));
const route = fc.oneof(
  destination.map((d) => ({ method: 'POST', path: `/v2/publish/${d}` })),
  fc.tuple(name, destination).map(([q, d]) => ({ method: 'POST', path: `/v2/enqueue/${q}/${d}` })),
  destination.map((d) => ({ method: 'POST', path: `/v2/schedules/${d}` })),
  fc.constantFrom(
    { method: 'POST', path: '/v2/batch' }, { method: 'GET', path: '/v2/messages/{name}' }, { method: 'DELETE', path: '/v2/messages/{name}' },
    { method: 'DELETE', path: '/v2/messages' }, { method: 'GET', path: '/v2/dlq' }, { method: 'GET', path: '/v2/dlq/{name}' },
    { method: 'DELETE', path: '/v2/dlq/{name}' }, { method: 'DELETE', path: '/v2/dlq' }, { method: 'POST', path: '/v2/dlq/retry' },
    { method: 'POST', path: '/v2/dlq/retry/{name}' }, { method: 'POST', path: '/v2/queues' }, { method: 'GET', path: '/v2/queues' },
    { method: 'GET', path: '/v2/queues/{name}' }, { method: 'DELETE', path: '/v2/queues/{name}' }, { method: 'POST', path: '/v2/queues/{name}/pause' },
    { method: 'POST', path: '/v2/queues/{name}/resume' }, { method: 'GET', path: '/v2/schedules' }, { method: 'GET', path: '/v2/schedules/{name}' },
    { method: 'DELETE', path: '/v2/schedules/{name}' }, { method: 'PATCH', path: '/v2/schedules/{name}/pause' }, { method: 'PATCH', path: '/v2/schedules/{name}/resume' },
    { method: 'POST', path: '/v2/topics/{name}/endpoints' }, { method: 'DELETE', path: '/v2/topics/{name}/endpoints' }, { method: 'GET', path: '/v2/topics' },
    { method: 'GET', path: '/v2/topics/{name}' }, { method: 'DELETE', path: '/v2/topics/{name}' }, { method: 'GET', path: '/v2/keys' },
    { method: 'GET', path: '/v2/events' }, { method: 'GET', path: '/v2/logs' }, { method: 'GET', path: '/v2/flowControl/{name}' },
    { method: 'POST', path: '/v2/flowControl/{name}/pin' }, { method: 'POST', path: '/v2/flowControl/{name}/pause' }, { method: 'GET', path: '/v2/globalParallelism' },
    { method: 'PUT', path: '/v2/queues' }, { method: 'GET', path: '/v2/nope' },
  ),
);
const jsonBody = fc.oneof(
  fc.record({ queueName: fc.oneof(name, fc.integer()), parallelism: fc.oneof(fc.integer({ min: -2, max: 5 }), hostile, fc.constant(1e9)), paused: fc.oneof(fc.boolean(), hostile) }, { requiredKeys: [] }),
  fc.record({ endpoints: fc.oneof(fc.array(fc.record({ url: fc.oneof(destination, fc.integer()), name: fc.oneof(hostile, fc.constant(null)) }, { requiredKeys: [] }), { maxLength: 3 }), hostile) }),
  fc.array(fc.record({ destination: fc.oneof(destination, fc.integer()), body: fc.oneof(hostile, fc.integer()), headers: fc.oneof(fc.dictionary(fc.constantFrom('upstash-retries', 'upstash-retry-delay', 'upstash-delay', 'upstash-forward-host', 'upstash-label'), fc.oneof(retryDelay, hostile, fc.integer())), hostile), queue: fc.oneof(name, fc.integer()) }, { requiredKeys: [] }), { maxLength: 4 }),
  fc.jsonValue({ maxDepth: 3 }),
).map((v) => JSON.stringify(v));
const body = fc.oneof(jsonBody, hostile, fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)), fc.constant(undefined));
const query = fc.dictionary(
  fc.constantFrom('count', 'cursor', 'messageIds', 'dlqIds', 'url', 'label', 'queueName', 'state', 'fromDate', 'responseStatus', 'parallelism', 'rate', 'period', 'qstash_token'),
  fc.oneof(fc.constantFrom('0', '1', '-1', '1e9', 'NaN', 'ERROR', 'BOGUS', '200', 'dGFt'), hostile.map((s) => encodeURIComponent(s))),
  { maxKeys: 3 },
);

async function snapshot(s: TestServer) {
  const tasks = (await s.store.listTasks({ limit: 500 })).tasks.map((t) => `${t.id}:${t.status}:${t.queue}`);
  const queues = (await s.store.listQueues()).map((q) => JSON.stringify(q));
  const groups = await s.store.listUrlGroups();
  const schedules = (await s.store.listSchedules()).map((x) => `${x.id}:${x.paused}:${x.cron}`);
  return JSON.stringify({ tasks, queues, groups, schedules });
}

describe('fuzzing the QStash-compatible API', () => {
  it('never answers 5xx, errors are {"error": string}, and refused requests change nothing', { timeout: 90_000 }, async () => {
    console.log(`qstash fuzz seed: ${seed} (replay: FC_SEED=${seed} npx vitest run test/qstash/qstash.fuzz.test.ts)`);
    const s = await startServer({ token: TOKEN, maxBody: '64kb', durability: 'normal' });
    await s.scheduler.stop(0);
    await s.store.addUrlGroupEndpoints('group1', [{ url: 'http://127.0.0.1:9/g', name: null }], Date.now());
    const seen = new Map<number, number>();
    let tried = 0;
    let before = await snapshot(s);
    const request = fc.record({
      route,
      param: name,
      query,
      headers: upstashHeaders,
      auth: fc.oneof({ weight: 9, arbitrary: fc.constant(`Bearer ${TOKEN}`) }, { weight: 1, arbitrary: fc.constantFrom(undefined, 'Bearer', `Bearer ${TOKEN}x`) }),
      tokenInQuery: fc.boolean(),
      body,
    });
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        tried++;
        const path = r.route.path.replace('{name}', r.param);
        const params = Object.entries(r.query).map(([k, v]) => `${k}=${v}`);
        if (r.tokenInQuery) params.push(`qstash_token=${TOKEN}`);
        const qs = params.join('&');
        const headers: Record<string, string> = { ...r.headers };
        if (r.auth !== undefined) headers.authorization = r.auth;
        const hasBody = r.body !== undefined && r.route.method !== 'GET';
        const sep = path.includes('?') ? '&' : '?';
        let res: Response;
        try {
          res = await fetch(`${s.url}${path}${qs ? sep + qs : ''}`, { method: r.route.method, headers, body: hasBody ? r.body : undefined, signal: AbortSignal.timeout(5000) });
        } catch (err) {
          // undici refuses some URLs and header values itself, before anything is sent.
          if (err instanceof TypeError && !/fetch failed/.test(err.message)) return;
          throw err;
        }
        seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
        const text = await res.text();
        expect(res.status, `${r.route.method} ${path}?${qs} → ${text.slice(0, 300)}`).toBeLessThan(500);
        if (res.status >= 400) {
          const parsed = JSON.parse(text);
          expect(Object.keys(parsed)).toEqual(['error']);
          // 431 comes from Node's parser, before any route: the server-wide error shape.
          // A path that normalizes out of /v2 (`/v2/enqueue/../..`) gets the /v1 error shape.
          if (res.status !== 431 && new URL(res.url).pathname.startsWith('/v2/')) expect(typeof parsed.error).toBe('string');
          expect(text).not.toMatch(/\bat .+\.(ts|js):\d+|SqliteError|TypeError/);
          expect(text).not.toContain(TOKEN);
          expect(await snapshot(s), `refused ${r.route.method} ${path} changed the database`).toBe(before);
        } else before = await snapshot(s);
      }),
      { seed, numRuns: RUNS, interruptAfterTimeLimit: 15_000, endOnFailure: true },
    );
    const statuses = [...seen.entries()].sort((a, b) => a[0] - b[0]).map(([k, v]) => `${k}×${v}`).join(' ');
    console.log(`qstash fuzz: ${tried} requests, statuses ${statuses}`);
    expect(seen.get(200) ?? 0).toBeGreaterThan(0);
    expect(seen.get(400) ?? 0).toBeGreaterThan(0);
    expect((await s.api('/healthz')).body).toEqual({ ok: true });
    if (testStore === 'sqlite') expect(s.store.db.pragma('integrity_check', { simple: true })).toBe('ok');
  });

  it('with --block-private-targets, private destinations, callbacks and endpoints are refused and nothing is created', async () => {
    const s = await startServer({ token: TOKEN, blockPrivateTargets: true });
    await s.scheduler.stop(0);
    const h = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const cases: [string, string, Record<string, string>, string?][] = [
      ['POST', '/v2/publish/http://127.0.0.1:9/x', {}],
      ['POST', '/v2/publish/http://169.254.169.254/latest/meta-data', {}],
      ['POST', '/v2/publish/http://10.0.0.1/x', {}],
      ['POST', '/v2/enqueue/q1/http://[::1]:9/x', {}],
      ['POST', '/v2/publish/https://example.com/x', { 'upstash-callback': 'http://127.0.0.1:9/cb' }],
      ['POST', '/v2/publish/https://example.com/x', { 'upstash-failure-callback': 'http://192.168.1.1/f' }],
      ['POST', '/v2/schedules/http://127.0.0.1:9/s', { 'upstash-cron': '* * * * *' }],
      ['POST', '/v2/batch', {}, JSON.stringify([{ destination: 'https://example.com/ok' }, { destination: 'http://127.0.0.1:9/no' }])],
      ['POST', '/v2/topics/g/endpoints', {}, JSON.stringify({ endpoints: [{ url: 'http://127.0.0.1:9/e' }] })],
    ];
    for (const [method, path, extra, b] of cases) {
      const res = await fetch(s.url + path, { method, headers: { ...h, ...extra }, body: b ?? '{}' });
      const text = await res.text();
      expect(res.status, `${path} ${JSON.stringify(extra)} → ${text}`).toBe(400);
      expect(JSON.parse(text).error).toMatch(/refused|private|loopback|address/i);
    }
    expect((await s.store.listTasks({ limit: 10 })).tasks).toEqual([]);
    expect(await s.store.listUrlGroups()).toEqual([]);
    expect(await s.store.listSchedules()).toEqual([]);
    expect((await s.store.listQueues()).map((q) => q.name)).not.toContain('q1');
  });
});
