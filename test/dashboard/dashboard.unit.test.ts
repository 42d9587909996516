// Pure parts of the dashboard: header masking, formatting, session cookies with explicit
// `now`, the login redirect check and the chart's axis.
import { describe, expect, test } from 'vitest';
import { formatDuration, isLoopback, MASK, maskHeaders, relative } from '../../src/dashboard/format.js';
import { safeNext } from '../../src/dashboard/login.js';
import { niceMax } from '../../src/dashboard/pages/chart.js';
import { createSessions, readCookie } from '../../src/dashboard/session.js';
import { SqliteStore } from '../../src/store/sqlite/index.js';

const NOW = Date.parse('2025-06-01T12:00:00Z');

describe('dashboard formatting', () => {
  test('header values that look like credentials are masked, others shown', () => {
    const shown = maskHeaders({
      Authorization: 'Bearer x', Cookie: 'a=b', 'X-Api-Key': 'k', 'X-Auth-Token': 't', 'Client-Secret': 's', 'X-Password': 'p', 'X-Trace': 'trace-1', Accept: 'text/plain',
    });
    expect(Object.fromEntries(shown)).toEqual({
      Authorization: MASK, Cookie: MASK, 'X-Api-Key': MASK, 'X-Auth-Token': MASK, 'Client-Secret': MASK, 'X-Password': MASK, 'X-Trace': 'trace-1', Accept: 'text/plain',
    });
  });

  test.each([
    ['2025-06-01T12:00:02Z', 'just now'],
    ['2025-06-01T11:59:30Z', '30 s ago'],
    ['2025-06-01T11:55:00Z', '5 min ago'],
    ['2025-06-01T14:00:00Z', 'in 2 h'],
    ['2025-05-29T12:00:00Z', '3 d ago'],
  ])('%s is "%s" from noon', (iso, want) => {
    expect(relative(iso, NOW)).toBe(want);
  });

  test('durations read in the largest sensible unit', () => {
    expect([formatDuration(840), formatDuration(2400), formatDuration(185_000), formatDuration(null)]).toEqual(['840 ms', '2.4 s', '3 min 5 s', 'running']);
  });

  test('only loopback hosts count as private to this machine', () => {
    expect(['127.0.0.1', 'localhost', '::1', '[::1]', '127.1.2.3'].map(isLoopback)).toEqual([true, true, true, true, true]);
    expect(['0.0.0.0', '::', '192.168.1.5', 'example.com'].map(isLoopback)).toEqual([false, false, false, false]);
  });

  test('the chart axis tops out at 1, 2 or 5 times a power of ten', () => {
    expect([0, 1, 3, 7, 10, 11, 180, 5001].map(niceMax)).toEqual([1, 1, 5, 10, 10, 20, 200, 10000]);
  });

  test('login redirects only to paths of this site', () => {
    expect(safeNext('/tasks?status=failed')).toBe('/tasks?status=failed');
    for (const bad of ['//evil.example', '/\\evil.example', 'https://evil.example', 'tasks', undefined, '/a\r\nSet-Cookie: x']) expect(safeNext(bad)).toBe('/');
    // What browsers resolve to another host: tab/newline dropped, dot segments, other controls.
    for (const bad of ['/\t/evil.example', '/\n/evil.example', '/a/..//evil.example', '/.//evil.example', '/\x0b/evil', '/\x7f', '/\x00x']) expect(safeNext(bad), JSON.stringify(bad)).toBe('/');
    expect(safeNext('/tasks#a b')).toBe('/tasks#a%20b');
  });
});

describe('dashboard sessions', () => {
  const store = new SqliteStore({ file: ':memory:' });
  const sessions = createSessions(['old-token', 'new-token'], store, 3600);

  test('a cookie issued for a current token is valid until it expires', async () => {
    const cookie = sessions.issue('new-token', NOW);
    expect(cookie).not.toContain('new-token');
    expect(await sessions.valid(cookie, NOW)).toBe(true);
    expect(await sessions.valid(cookie, NOW + 3599_000)).toBe(true);
    expect(await sessions.valid(cookie, NOW + 3600_000)).toBe(false);
  });

  test('a cookie for a removed token, a tampered expiry or id, or garbage is refused', async () => {
    const other = createSessions(['new-token'], store, 3600);
    expect(await other.valid(sessions.issue('old-token', NOW), NOW)).toBe(false);
    const [exp, id, mac] = sessions.issue('new-token', NOW).split('.');
    expect(await sessions.valid(`${exp}.${id}.${mac}`, NOW)).toBe(true);
    expect(await sessions.valid(`${Number(exp) + 60}.${id}.${mac}`, NOW)).toBe(false);
    expect(await sessions.valid(`${exp}.${'A'.repeat(22)}.${mac}`, NOW)).toBe(false);
    expect(await createSessions(['new-token'], store, 7200).valid(`${Number(exp) + 3600}.${id}.${mac}`, NOW)).toBe(false);
    for (const bad of [undefined, '', 'x', `${exp}.`, `${exp}.${mac}`, `${exp}.${id}.${mac}x`]) expect(await sessions.valid(bad, NOW)).toBe(false);
  });

  test('revoke ends one session, not the others of the same token, and forgets ended sessions once expired', async () => {
    const a = sessions.issue('new-token', NOW);
    const b = sessions.issue('new-token', NOW);
    await sessions.revoke(a, NOW);
    expect([await sessions.valid(a, NOW), await sessions.valid(b, NOW)]).toEqual([false, true]);
    // A later logout drops the records of sessions that have expired since.
    const later = NOW + 3601_000;
    await sessions.revoke(sessions.issue('new-token', later), later);
    expect(await store.isSessionRevoked(sessions.parse(a, NOW)!.id)).toBe(false);
  });

  test('the session cookie is found among others', () => {
    expect(readCookie('a=1; aq_session=123.abc; b=2')).toBe('123.abc');
    expect(readCookie('xaq_session=1')).toBeUndefined();
  });
});

describe('task page words', () => {
  test('a task that stopped on AQ-No-Retry says so, and one delivery is "1 delivery"', async () => {
    const { TaskDetail, stopReason } = await import('../../src/dashboard/pages/task.js');
    const base = {
      id: 'tsk_1', queue: 'default', status: 'failed', targetUrl: 'http://x/', method: 'POST', headers: {}, payload: null, webhookUrl: 'http://x/h',
      webhookRetries: 12, retries: 3, timeout: 30, backoff: { initial: 2, factor: 2, max: 3600 }, priority: 0, idempotencyKey: null, labels: [],
      attempts: 1, runAt: '2025-06-01T12:00:00Z', createdAt: '2025-06-01T12:00:00Z', updatedAt: '2025-06-01T12:00:00Z', completedAt: '2025-06-01T12:00:00Z',
      result: null, error: { type: 'http', status: 422, message: 'HTTP 422 from POST http://x/ (not retried: the target answered AQ-No-Retry: true)' },
      webhook: { status: 'delivered', attempts: 1, error: null }, scheduleId: null,
    } as const;
    expect(stopReason(base as never)).toContain('AQ-No-Retry');
    expect(stopReason({ ...base, error: { type: 'http', status: 500, message: 'HTTP 500' } } as never)).toBe('gave up after its 3 retries');
    const html = String(TaskDetail({ task: base as never, attempts: [], deliveries: [], now: NOW }));
    expect(html).toContain('1 delivery tried');
    expect(html).not.toContain('retries allowed');
  });
});
