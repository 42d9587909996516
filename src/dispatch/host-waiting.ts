// The `host_circuit_open` reason of api.md §11/§12: a pending task whose target origin has an
// open circuit on this node waits for it (until the reopening), even when its own run time has
// come or is set to that reopening (a task given back unstarted). Breaker state is per node.
import { originOf } from './host-policy.js';
import type { HostTable } from './hosts.js';
import { clockTime, type WaitingBlocker } from './waiting.js';

/** The blocker for Explainer.addBlocker(). */
export function hostBlocker(hosts: HostTable): WaitingBlocker {
  const check: WaitingBlocker = (t, now) => {
    const url = t.task?.targetUrl;
    const origin = url === undefined ? undefined : originOf(url);
    const s = origin === undefined ? undefined : hosts.peek(origin);
    if (!s || hosts.policy.breakerFailures <= 0) return undefined;
    if (s.state === 'half_open') {
      return { reason: 'host_circuit_open', message: `the circuit of ${origin} is half open: one probe attempt is in flight; the task starts if it succeeds` };
    }
    if (s.state !== 'open' || s.openUntil === null || s.openUntil <= now || t.runAt > s.openUntil) return undefined;
    return {
      reason: 'host_circuit_open', until: new Date(s.openUntil).toISOString(),
      message: `the circuit of ${origin} is open after ${s.consecutiveFailures} failures in a row; no attempt before ${clockTime(s.openUntil, now)} (retries are not spent meanwhile)`,
    };
  };
  return Object.assign(check, { early: true });
}
