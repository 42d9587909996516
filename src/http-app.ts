// The server's HTTP API as one request listener: the Hono app (routes, OpenAPI document, zod
// schemas), the dashboard, /metrics and /v1/doctor, and the raw create path in front of them.
// server.ts loads this module at the first request that needs it, so an idle server does not
// carry Hono, zod and the route modules (≈ 20 MiB); it answers a plain GET /healthz itself.
import { getRequestListener, RequestError } from '@hono/node-server';
import type { RequestListener } from 'node:http';
import { createApp } from './api/app.js';
import type { ApiDeps } from './api/deps.js';
import { errorBody } from './api/errors.js';
import { fastCreateListener } from './api/fast-create.js';
import { createDashboard, type DashboardOptions } from './dashboard/index.js';
import { createDoctor, type DoctorOptions } from './ops/doctor.js';
import { registerOpsRoutes } from './ops/routes.js';

export interface HttpAppOptions {
  deps: ApiDeps;
  dashboard: DashboardOptions;
  doctor: DoctorOptions;
  /** The Prometheus text of the server's metrics. */
  metrics: () => Promise<{ contentType: string; body: string }>;
}

/** The listener every request that passed the front guard goes to. */
export function createHttpListener(o: HttpAppOptions): RequestListener {
  const { deps } = o;
  const log = deps.log;
  const doctor = createDoctor(o.doctor);
  const dashboard = createDashboard(o.dashboard);
  const { app } = createApp(deps, {
    routes: [(a, d) => registerOpsRoutes(a, d, { metrics: o.metrics, doctor })],
    authenticate: dashboard.authenticate,
  });
  dashboard.register(app);
  const honoListener = getRequestListener(app.fetch, {
    // What the adapter cannot turn into a Request (a target or Host no URL can be built from)
    // is the client's error: answered in the contract's shape, logged at debug (api.md §3).
    errorHandler: (err) => {
      if (err instanceof RequestError) {
        log.debug('request refused before routing', { reason: err.message });
        return Response.json(errorBody('invalid_request', `malformed request: ${err.message}`), { status: 400, headers: { Connection: 'close' } });
      }
      log.error('request failed outside the app', { err });
      return Response.json(errorBody('internal', 'internal error'), { status: 500 });
    },
  });
  // Plain creates are answered on node:http directly; everything else by the Hono app.
  return fastCreateListener(deps, honoListener);
}
