// Every target and webhook origin this node dispatches to (api.md §12): its circuit breaker and
// adaptive limit (the pure rules of host-policy.ts), its attempts in flight and its last
// failures, in memory and per node (README: "Hosts"). The scheduler and the webhook sender ask
// admit() before each request and report its end with finish(). At most `maxHosts` origins are
// tracked; the least recently used idle one is forgotten first, so 10,000 origins cost no more
// than `maxHosts` entries.
import type { Logger } from '../log.js';
import type { Host, TaskError } from '../shared/types.js';
import { admit, effectiveLimit, finished, freshHost, hostOutcome, originOf, started, type Admission, type HostPolicy, type HostState } from './host-policy.js';
import type { AttemptOutcome } from './outcome.js';

/** Origins tracked at most by default (the LRU cap of api.md §12). */
export const MAX_TRACKED_HOSTS = 1000;
/** How long a request given back for a full origin limit (or a probe in flight) waits before it is claimed again (ms). */
export const HOST_WAIT_MS = 1000;
/** Claimed tasks of an origin at its limit the scheduler keeps, to start as its attempts end (beyond these they are given back). */
export const PARK_PER_ORIGIN = 8;
/** Failures kept per origin for the dashboard. */
const RECENT_FAILURES = 5;

/** One origin as `GET /v1/hosts` shows it. */
export type HostView = Host;

interface Entry {
  s: HostState;
  failures: { at: number; error: string }[];
}

/** An admitted request: hand it back to finish(). */
export interface HostTicket {
  origin: string;
  probe: boolean;
}

export interface HostTableOptions {
  policy: HostPolicy;
  log: Logger;
  /** Origins tracked at most (default MAX_TRACKED_HOSTS). */
  maxHosts?: number;
}

export class HostTable {
  private readonly hosts = new Map<string, Entry>();
  private readonly max: number;

  constructor(private readonly o: HostTableOptions) {
    this.max = o.maxHosts ?? MAX_TRACKED_HOSTS;
  }

  /** Origins tracked now. */
  get size(): number {
    return this.hosts.size;
  }

  get policy(): HostPolicy {
    return this.o.policy;
  }

  /**
   * Admits a request to `url` at `now` (counted in flight until finish()), or says why not and
   * until when; at most `share` in flight to one origin. A URL without an origin is admitted
   * untracked (its request fails by itself).
   */
  admit(url: string, now: number, share = Infinity): ({ ok: true; ticket: HostTicket | undefined }) | (Extract<Admission, { ok: false }> & { origin: string }) {
    const origin = originOf(url);
    if (origin === undefined) return { ok: true, ticket: undefined };
    const e = this.entry(origin);
    // `share`: the caller's own cap on one origin (the webhook sender's half of its slots)
    const a: Admission = e.s.inFlight >= share ? { ok: false, reason: 'limit', until: null } : admit(e.s, this.o.policy, now);
    if (!a.ok) return { ...a, origin };
    e.s = started(e.s, a.probe);
    if (a.probe) this.o.log.info('host circuit half open: probing', { origin });
    return { ok: true, ticket: { origin, probe: a.probe } };
  }

  /** Records the end of an admitted request: its outcome and the parsed Retry-After (ms) of its answer. */
  finish(ticket: HostTicket | undefined, outcome: AttemptOutcome, retryAfterMs: number | undefined, now: number): void {
    if (!ticket) return;
    const e = this.entry(ticket.origin);
    const o = hostOutcome(outcome, retryAfterMs);
    const before = effectiveLimit(e.s, this.o.policy);
    const { state, change } = finished(e.s, o, ticket.probe, this.o.policy, now);
    e.s = state;
    if (o.kind === 'failure') {
      const error = outcome.kind === 'error' ? errorWords(outcome.error) : `HTTP ${outcome.status}`;
      e.failures.unshift({ at: now, error });
      e.failures.length = Math.min(e.failures.length, RECENT_FAILURES);
    }
    const after = effectiveLimit(state, this.o.policy);
    if (after < before) this.o.log.warn('host limit lowered', { origin: ticket.origin, limit: after, status: outcome.kind === 'response' ? outcome.status : undefined });
    if (change === 'opened' || change === 'reopened') {
      this.o.log.warn(`host circuit ${change}`, {
        origin: ticket.origin, failures: state.consecutiveFailures, until: new Date(state.openUntil!).toISOString(), cooldownMs: state.cooldownMs,
      });
    } else if (change === 'closed') this.o.log.info('host circuit closed', { origin: ticket.origin });
  }

  /** The state of `origin` if tracked (no LRU touch). */
  peek(origin: string): HostState | undefined {
    return this.hosts.get(origin)?.s;
  }

  /** Closes the circuit of `origin` by hand and lifts its limit and delay (api.md §12); false when it is not tracked. */
  reset(origin: string): boolean {
    const e = this.hosts.get(origin);
    if (!e) return false;
    e.s = { ...freshHost(), inFlight: e.s.inFlight };
    this.o.log.info('host circuit closed', { origin, by: 'reset' });
    return true;
  }

  /** Every tracked origin, most recently used first. */
  list(): HostView[] {
    const out: HostView[] = [];
    for (const [origin, e] of this.hosts) {
      const limit = effectiveLimit(e.s, this.o.policy);
      out.push({
        origin, state: e.s.state, inFlight: e.s.inFlight, limit: limit === Infinity ? null : limit,
        consecutiveFailures: e.s.consecutiveFailures,
        openUntil: e.s.state === 'open' && e.s.openUntil !== null ? new Date(e.s.openUntil).toISOString() : null,
        notBefore: e.s.notBefore === null ? null : new Date(e.s.notBefore).toISOString(),
        recentFailures: e.failures.map((f) => ({ at: new Date(f.at).toISOString(), error: f.error })),
      });
    }
    return out.reverse();
  }

  private entry(origin: string): Entry {
    let e = this.hosts.get(origin);
    if (e) {
      this.hosts.delete(origin); // most recently used last
    } else {
      e = { s: freshHost(), failures: [] };
      if (this.hosts.size >= this.max) this.evict();
    }
    this.hosts.set(origin, e);
    return e;
  }

  /** Forgets the least recently used origin with nothing in flight (else the least recently used). */
  private evict(): void {
    let victim: string | undefined;
    for (const [origin, e] of this.hosts) {
      victim ??= origin;
      if (e.s.inFlight === 0) {
        victim = origin;
        break;
      }
    }
    if (victim !== undefined) this.hosts.delete(victim);
  }
}

function errorWords(e: TaskError): string {
  return e.type === 'timeout' ? 'timeout' : `${e.type}: ${e.message}`.slice(0, 200);
}
