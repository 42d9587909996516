// `client.hosts`: the target origins of the server answering, with their circuit breakers and
// adaptive limits (api.md §12; breaker state is per node).
import type { Host } from '../shared/types.js';
import type { Requester } from './request.js';

/** The host routes of one server. */
export class HostsResource {
  readonly #r: Requester;

  constructor(requester: Requester) {
    this.#r = requester;
  }

  /** Every origin the server dispatched to since it started (up to 1,000), most recently used first. */
  async list(opts: { signal?: AbortSignal } = {}): Promise<Host[]> {
    const answer = await this.#r.request<{ hosts: Host[] }>({ expect: 'hosts', method: 'GET', path: '/v1/hosts', retry: true, signal: opts.signal });
    return answer.hosts;
  }

  /** Closes an origin's circuit by hand and lifts its lowered limit (400 for what is no http(s) origin, 404 for one the server does not track). */
  async reset(origin: string): Promise<Host> {
    return this.#r.request<Host>({ expect: 'origin', method: 'POST', path: '/v1/hosts/reset', body: { origin }, retry: true });
  }
}
