// What the HTTP layer is given: the store, the event stream, the scheduler's wake() and limits.
// It never sees the dispatcher's delivery code.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { TaskEvents } from '../dispatch/events.js';
import type { Store } from '../store/store.js';
import type { DevDeps } from './routes/dev.js';
import type { Completions } from '../dispatch/completions.js';
import type { Explainer } from '../dispatch/explain.js';
import type { ClusterNode } from '../store/store.js';
import type { HostTable } from '../dispatch/hosts.js';

export interface ApiDeps {
  store: Store;
  events: TaskEvents;
  clock: Clock;
  log: Logger;
  /** Asks the scheduler to claim soon (after creates, retries and queue changes). */
  wake: () => void;
  /** Asks the webhook sender to claim soon (after a re-delivery). */
  wakeWebhooks?: () => void;
  /** The signing secret and where it came from (`GET /v1/signing-secret`, api.md §16). */
  signingSecret?: { secret: string; source: 'config' | 'database' };
  /** Tells the schedule runner that a schedule was created, changed or deleted (re-arms its timer). */
  schedulesChanged?: () => void;
  /** Attempts in flight now. */
  inFlight: () => number;
  /** Accepted bearer tokens; empty = no auth. */
  tokens: string[];
  maxBody: number;
  maxDepth: number;
  maxWaiters: number;
  maxSseClients: number;
  corsOrigins: string[];
  /** Why a target or webhook URL is refused at create time (outbound policy), or undefined. */
  refusedUrl?: (url: string) => string | undefined;
  version: string;
  /** `serve --dev`: the request sink and the virtual clock (api.md §15); absent otherwise. */
  dev?: DevDeps;
  /** For the QStash-compatible `/v2` API: its signing keys (GET /v2/keys) and the global concurrency. */
  qstash?: { keys: { current: string; next: string }; concurrency: number };
  /** complete, fail and heartbeat of open async attempts (api.md §10); the routes are absent without it. */
  completions?: Pick<Completions, 'caller' | 'complete' | 'fail' | 'heartbeat'>;
  /** Target origins and their breakers (api.md §12, this node's); the /v1/hosts routes are absent without it. */
  hosts?: Pick<HostTable, 'list' | 'reset'>;
  /** `waiting` on Task answers and the plan route (api.md §11); without it `waiting` stays null. */
  explain?: Pick<Explainer, 'annotate' | 'plan'>;
  /** The nodes of the cluster (api.md §9, GET /v1/cluster); without it the route lists none. */
  cluster?: () => Promise<ClusterNode[]>;
}
