// The doctor report behind `GET /v1/doctor` and `asyncqueue doctor`: the facts a user pastes
// into a bug report (versions, database, durability, task counts, the signing secret's
// fingerprint, the effective limits). Never a secret, a token, a payload or a URL of a task.
import { z } from '@hono/zod-openapi';
import path from 'node:path';
import type { Config } from '../config.js';
import type { ClusterNode, Store } from '../store/store.js';
import { TASK_STATUSES, type TaskStatus } from '../shared/types.js';

const Counts = z.object(Object.fromEntries(TASK_STATUSES.map((s) => [s, z.number().int()])) as Record<TaskStatus, z.ZodNumber>);

/** The report's schema (also its OpenAPI component `Doctor`). */
export const DoctorSchema = z
  .object({
    version: z.string().openapi({ description: 'AsyncQueue version of the server' }),
    node: z.string().openapi({ description: 'Node.js version, e.g. v22.11.0' }),
    platform: z.string().openapi({ description: 'OS and CPU architecture, e.g. "linux x64"' }),
    uptimeSeconds: z.number().int(),
    database: z.object({
      store: z.enum(['sqlite', 'postgresql']).openapi({ description: 'which store keeps the tasks' }),
      path: z.string(),
      sizeBytes: z.number().int().openapi({ description: 'database file plus its write-ahead log' }),
      schemaVersion: z.number().int(),
      durability: z.string().openapi({ description: '`full` (fsync each commit) or `normal`' }),
    }),
    tasks: Counts.openapi({ description: 'tasks stored now, by status' }),
    queues: z.number().int(),
    inFlight: z.number().int(),
    signingSecret: z
      .object({
        fingerprint: z.string().openapi({ description: 'short hash of the secret, never the secret' }),
        source: z.enum(['config', 'database']).openapi({ description: 'given by --signing-secret/AQ_SIGNING_SECRET, or generated and kept in the database' }),
      })
      .nullable(),
    auth: z.object({ tokens: z.number().int().openapi({ description: 'how many bearer tokens are accepted (0 = no auth)' }) }),
    config: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).openapi({ description: 'effective settings, secrets left out' }),
    nodes: z
      .array(z.object({ id: z.string(), name: z.string(), heartbeatAt: z.string(), inFlight: z.number().int(), leader: z.boolean(), alive: z.boolean() }))
      .openapi({ description: 'the nodes sharing the database (api.md §9; one with SQLite)' }),
  })
  .openapi('Doctor');

export type DoctorReport = z.infer<typeof DoctorSchema>;

export interface DoctorOptions {
  store: Pick<Store, 'info' | 'listQueues'>;
  version: string;
  inFlight: () => number;
  /** The server's config; absent when the app runs without a server (tests of the API alone). */
  config?: Readonly<Config>;
  signingSecret?: { fingerprint: string; source: 'config' | 'database' };
  /** When the server started, in ms since the epoch (default: when this function is called). */
  startedAt?: number;
  now?: () => number;
  /** The cluster's nodes (GET /v1/cluster); none when absent. */
  nodes?: () => Promise<ClusterNode[]>;
}

/** Settings shown in the report: everything but the token and the signing secret. */
const SHOWN: (keyof Config)[] = [
  'host', 'port', 'concurrency', 'maxBody', 'maxResult', 'retention', 'logLevel', 'shutdownGrace', 'blockPrivateTargets',
  'maxConnectionsPerOrigin', 'maxDepth', 'maxWaiters', 'maxSseClients', 'webhookConcurrency',
];

/** Returns the function that builds a fresh report on each call. */
export function createDoctor(o: DoctorOptions): () => Promise<DoctorReport> {
  const now = o.now ?? Date.now;
  const startedAt = o.startedAt ?? now();
  return async () => {
    const [info, queues, nodes] = await Promise.all([o.store.info(), o.store.listQueues(), o.nodes ? o.nodes() : Promise.resolve([])]);
    const tasks = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
    for (const q of queues) for (const s of TASK_STATUSES) tasks[s] += q.counts[s] ?? 0;
    const config: Record<string, string | number | boolean> = {};
    if (o.config) {
      for (const k of SHOWN) config[k] = o.config[k] as string | number | boolean;
      if (o.config.allowHosts.length) config.allowHosts = o.config.allowHosts.join(',');
      if (o.config.corsOrigins.length) config.corsOrigins = o.config.corsOrigins.join(',');
    }
    return {
      version: o.version,
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
      uptimeSeconds: Math.max(0, Math.round((now() - startedAt) / 1000)),
      database: /^postgres(ql)?:\/\//i.test(info.path) ? { store: 'postgresql' as const, ...info } : { store: 'sqlite' as const, ...info, path: path.resolve(info.path) },
      tasks,
      queues: queues.length,
      inFlight: o.inFlight(),
      signingSecret: o.signingSecret ?? null,
      auth: { tokens: o.config?.tokens.length ?? 0 },
      config,
      nodes: nodes.map((n) => ({ id: n.id, name: n.name, heartbeatAt: new Date(n.heartbeatAt).toISOString(), inFlight: n.inFlight, leader: n.leader && n.alive, alive: n.alive })),
    };
  };
}
