// /openapi.json is a complete, valid OpenAPI 3.1 document: checked structurally (no validator
// package is installed): operations with responses, resolvable $refs, declared path parameters,
// and every route the app answers documented, so a client generator sees the whole API.
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/api/app.js';
import { registerOpsRoutes } from '../../src/ops/routes.js';
import { systemClock } from '../../src/clock.js';
import { TaskEvents } from '../../src/dispatch/events.js';
import { silentLogger } from '../../src/log.js';
import { startServer } from '../helpers/server.js';

type Json = Record<string, any>;
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

/** Every `$ref` string anywhere in the document, with where it was found. */
function refs(node: unknown, at = '#', out: { ref: string; at: string }[] = []) {
  if (Array.isArray(node)) node.forEach((v, i) => refs(v, `${at}/${i}`, out));
  else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push({ ref: v, at });
      else refs(v, `${at}/${k}`, out);
    }
  }
  return out;
}

/** Follows a local JSON pointer (`#/components/schemas/Task`); undefined if it leads nowhere. */
function resolve(doc: Json, ref: string): unknown {
  if (!ref.startsWith('#/')) return undefined;
  let node: any = doc;
  for (const raw of ref.slice(2).split('/')) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (node === null || typeof node !== 'object' || !(key in node)) return undefined;
    node = node[key];
  }
  return node;
}

/** Structural problems of an OpenAPI 3.1 document, as sentences; empty when it is sound. */
function problems(doc: Json): string[] {
  const out: string[] = [];
  if (!/^3\.1\.\d+$/.test(String(doc.openapi))) out.push(`openapi is ${doc.openapi}, not 3.1.x`);
  if (typeof doc.info?.title !== 'string' || typeof doc.info?.version !== 'string') out.push('info.title and info.version must be strings');
  if (!doc.paths || typeof doc.paths !== 'object') return [...out, 'no paths'];
  const operationIds = new Set<string>();
  for (const [path, item] of Object.entries<Json>(doc.paths)) {
    if (!path.startsWith('/')) out.push(`path ${path} does not start with /`);
    const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
    for (const method of Object.keys(item).filter((k) => METHODS.includes(k))) {
      const op = item[method] as Json;
      const where = `${method.toUpperCase()} ${path}`;
      const responses = Object.entries<Json>(op.responses ?? {});
      if (responses.length === 0) out.push(`${where} has no responses`);
      for (const [code, r] of responses) {
        if (!/^([1-5]\d\d|[1-5]XX|default)$/.test(code)) out.push(`${where} response ${code} is not a status code`);
        if (!r.$ref && typeof r.description !== 'string') out.push(`${where} response ${code} has no description`);
        for (const [type, media] of Object.entries<Json>(r.content ?? {})) if (!media.schema) out.push(`${where} ${code} ${type} has no schema`);
      }
      if (op.operationId) {
        if (operationIds.has(op.operationId)) out.push(`operationId ${op.operationId} is used twice`);
        operationIds.add(op.operationId);
      }
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p: Json) => (p.$ref ? resolve(doc, p.$ref) : p) as Json);
      for (const p of params) {
        if (!p || typeof p.name !== 'string' || !['query', 'header', 'path', 'cookie'].includes(p.in)) out.push(`${where} has a malformed parameter ${JSON.stringify(p)}`);
        else if (p.in === 'path' && (!templated.includes(p.name) || p.required !== true)) out.push(`${where} path parameter ${p.name} is not in the path or not required`);
      }
      for (const name of templated) if (!params.some((p) => p?.in === 'path' && p.name === name)) out.push(`${where} does not declare path parameter ${name}`);
      if (op.requestBody && !op.requestBody.$ref && !op.requestBody.content) out.push(`${where} requestBody has no content`);
    }
  }
  for (const { ref, at } of refs(doc)) if (resolve(doc, ref) === undefined) out.push(`$ref ${ref} at ${at} does not resolve`);
  return out;
}

async function appDocument(tokens: string[] = []) {
  const server = await startServer();
  const { app } = createApp({
    store: server.store, events: new TaskEvents(), clock: systemClock, log: silentLogger, wake: () => {}, inFlight: () => 0,
    tokens, maxBody: 1 << 20, maxDepth: 64, maxWaiters: 10, maxSseClients: 10, corsOrigins: [], version: '0.0.0-test',
  } as never, { routes: [(a, d) => registerOpsRoutes(a, d)] });
  return { app, doc: (await (await app.request('/openapi.json')).json()) as Json };
}

describe('/openapi.json', () => {
  it('the structural check itself catches a dangling $ref, a missing response and an undeclared path parameter', () => {
    const broken = {
      openapi: '3.1.0', info: { title: 't', version: '1' },
      paths: { '/x/{id}': { get: { responses: {} }, post: { responses: { 200: { description: 'ok', content: { 'application/json': { schema: { $ref: '#/components/schemas/Nope' } } } } } } } },
    };
    const found = problems(broken).join('\n');
    expect(found).toContain('GET /x/{id} has no responses');
    expect(found).toContain('does not declare path parameter id');
    expect(found).toContain('$ref #/components/schemas/Nope');
  });

  it('is a structurally valid OpenAPI 3.1 document whose $refs all resolve', async () => {
    const server = await startServer();
    const r = await server.api('/openapi.json');
    expect(r.status).toBe(200);
    expect(problems(r.body)).toEqual([]);
    expect(refs(r.body).length).toBeGreaterThan(0);
    expect(r.body.components.schemas).toHaveProperty('Task');
  });

  it('documents every route the app answers', async () => {
    const { app, doc } = await appDocument();
    const answered = new Set<string>();
    for (const r of app.routes) {
      if (r.method === 'ALL' || r.path.includes('*')) continue; // middleware
      answered.add(`${r.method.toLowerCase()} ${r.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`);
    }
    const documented = new Set(Object.entries<Json>(doc.paths).flatMap(([p, item]) => Object.keys(item).filter((k) => METHODS.includes(k)).map((m) => `${m} ${p}`)));
    // The document does not describe itself.
    answered.delete('get /openapi.json');
    expect([...answered].filter((r) => !documented.has(r)).sort()).toEqual([]);
    expect(documented.has('get /metrics') && documented.has('get /v1/doctor') && documented.has('post /v1/tasks')).toBe(true);
  });

  it('declares bearer auth when the server has a token, and documents the 401 of /v1 routes', async () => {
    const { doc } = await appDocument(['t0ken']);
    expect(doc.components.securitySchemes.bearer).toEqual({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toEqual([{ bearer: [] }]);
    for (const [path, item] of Object.entries<Json>(doc.paths)) {
      if (!path.startsWith('/v1/')) continue;
      for (const m of Object.keys(item).filter((k) => METHODS.includes(k))) {
        if (path === '/v1/events') continue; // an SSE stream: its errors are documented in text
        expect(Object.keys(item[m].responses), `${m} ${path}`).toContain('401');
      }
    }
  });
});
