// Routes outside /v1: health (always open) and the OpenAPI document.
import type { OpenAPIHono } from '@hono/zod-openapi';
import type { ApiDeps } from '../deps.js';

export function registerSystemRoutes(app: OpenAPIHono, deps: ApiDeps): void {
  app.get('/healthz', async (c) => {
    let ok = false;
    try {
      ok = await deps.store.ping();
    } catch {
      ok = false;
    }
    return c.json({ ok }, ok ? 200 : 503);
  });
  app.doc31('/openapi.json', {
    openapi: '3.1.0',
    info: {
      title: 'AsyncQueue',
      version: deps.version,
      description: 'Self-hosted HTTP task queue: create a task, AsyncQueue POSTs its payload to your target, retries with backoff and delivers the outcome to your webhook.',
    },
    servers: [{ url: '/' }],
    security: deps.tokens.length > 0 ? [{ bearer: [] }] : [],
  });
  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', { type: 'http', scheme: 'bearer' });
}
