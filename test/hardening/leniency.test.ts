// Input the server used to bend silently, now refused with the documented 400 or kept exactly:
// invalid UTF-8, a "__proto__" header, a UTF-8 Idempotency-Key header, numbers in ?wait= and
// ?limit= other than plain decimals, impossible calendar dates in runAt.
import { describe, expect, it } from 'vitest';
import { rawRequest } from '../helpers/raw.js';
import { startServer } from '../helpers/server.js';
import { taskInput } from '../helpers/tasks.js';

const T = 'http://127.0.0.1:9/never';

describe('leniency that used to surprise', () => {
  it('a body that is not valid UTF-8 is 400 invalid_request, not stored with U+FFFD', async () => {
    const s = await startServer();
    const body = Buffer.concat([Buffer.from(`{"targetUrl":"${T}","payload":"`), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
    const r = await rawRequest(s.url, `POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n` + body.toString('latin1'));
    expect(r.status).toBe(400);
    expect(JSON.parse(r.body).error).toMatchObject({ code: 'invalid_request', message: 'the request body is not valid UTF-8' });
    // Valid multi-byte UTF-8 is kept exactly.
    const ok = await s.api('/v1/tasks', { body: taskInput(T, { payload: 'é😀' }) });
    expect(ok.status).toBe(201);
    expect((await s.api(`/v1/tasks/${ok.body.id}`)).body.payload).toBe('é😀');
    expect((await s.api('/v1/tasks')).body.tasks).toHaveLength(1);
  });

  it('a "__proto__" key in headers is refused by name instead of vanishing', async () => {
    const s = await startServer();
    const r = await s.api('/v1/tasks', { raw: `{"targetUrl":"${T}","headers":{"__proto__":"x","x-a":"b"}}`, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(400);
    expect(r.body.error.details).toContainEqual({ path: ['headers', '__proto__'], message: 'the header name __proto__ is not accepted' });
    // In the payload it is plain data and kept.
    const p = await s.api('/v1/tasks', { raw: `{"targetUrl":"${T}","payload":{"__proto__":{"a":1}}}`, headers: { 'content-type': 'application/json' } });
    expect(p.status).toBe(201);
    expect(JSON.stringify((await s.api(`/v1/tasks/${p.body.id}`)).body.payload)).toBe('{"__proto__":{"a":1}}');
  });

  it('an Idempotency-Key header in UTF-8 matches the same key given in the body; invalid UTF-8 is refused', async () => {
    const s = await startServer();
    const key = 'commande-été-😀';
    const body = JSON.stringify(taskInput(T));
    const head = Buffer.from(key, 'utf8').toString('latin1'); // the bytes on the wire
    const first = await rawRequest(s.url, `POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nIdempotency-Key: ${head}\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    expect(first.status).toBe(201);
    expect(JSON.parse(first.body).idempotencyKey).toBe(key);
    const again = await s.api('/v1/tasks', { body: taskInput(T, { idempotencyKey: key }) });
    expect([again.status, again.body.id]).toEqual([200, JSON.parse(first.body).id]);
    const bad = await rawRequest(s.url, `POST /v1/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nIdempotency-Key: \xff\xfe\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    expect([bad.status, JSON.parse(bad.body).error.message]).toEqual([400, 'Idempotency-Key is not valid UTF-8']);
  });

  it('?wait= and ?limit= take plain decimals only: 0x10, 1e1, empty and signs are 400', async () => {
    const s = await startServer();
    const id = (await s.api('/v1/tasks', { body: taskInput(T, { delay: 3600 }) })).body.id;
    for (const v of ['0x10', '1e1', '', ' 1', '+1', '-0', 'Infinity', '0b1']) {
      const r = await s.api(`/v1/tasks/${id}?wait=${encodeURIComponent(v)}`);
      expect([r.status, r.body.error?.code], `wait=${v}`).toEqual([400, 'invalid_request']);
      const l = await s.api(`/v1/tasks?limit=${encodeURIComponent(v)}`);
      expect(l.status, `limit=${v}`).toBe(400);
    }
    expect((await s.api(`/v1/tasks/${id}?wait=0`)).status).toBe(200);
    expect((await s.api(`/v1/tasks/${id}?wait=0.05`)).status).toBe(200);
    expect((await s.api('/v1/tasks?limit=2')).status).toBe(200);
  });

  it('runAt must be a real RFC 3339 instant with a time zone: 2024-02-30, hour 24 or no zone are 400', async () => {
    const s = await startServer();
    for (const runAt of ['2024-02-30T00:00:00Z', '2023-02-29T00:00:00Z', '2024-04-31T10:00:00Z', '2024-01-01T24:00:00Z', '2024-01-01T00:00:00', '2024-01-01', '2024-01-01T00:00:60Z', '2024-01-01T00:00:00+24:00', '+002024-01-01T00:00:00Z']) {
      const r = await s.api('/v1/tasks', { body: taskInput(T, { runAt }) });
      expect([r.status, r.body.error?.code], runAt).toEqual([400, 'invalid_request']);
    }
    for (const runAt of ['2024-02-29T00:00:00Z', '2030-01-31T09:00:00.123+02:00', '2030-12-31T23:59:59z']) {
      expect((await s.api('/v1/tasks', { body: taskInput(T, { runAt }) })).status, runAt).toBe(201);
    }
  });
});
