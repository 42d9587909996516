// `client.sink` and `client.clock`: the development routes of `serve --dev` (api.md §15) — the
// requests a sink received, and the virtual clock of `--clock virtual`.
import type { ClockState, SinkRequest } from '../shared/dev.js';
import type { Requester } from './request.js';

/** The request sink: what `/_sink/<name>` received. */
export class SinkResource {
  readonly #r: Requester;

  constructor(requester: Requester) {
    this.#r = requester;
  }

  /** Sink `name`'s requests, oldest first; only those after request id `after` when given. */
  async list(name: string, opts: { after?: number; signal?: AbortSignal } = {}): Promise<SinkRequest[]> {
    const answer = await this.#r.request<{ requests: SinkRequest[] }>({
      method: 'GET', path: `/v1/sink/${encodeURIComponent(name)}`, query: { after: opts.after }, retry: true, signal: opts.signal,
    });
    return answer.requests;
  }

  /** Forgets sink `name`'s requests. */
  async clear(name: string): Promise<void> {
    await this.#r.request<null>({ method: 'DELETE', path: `/v1/sink/${encodeURIComponent(name)}`, retry: true });
  }

  /** The URL a task's `targetUrl` or `webhookUrl` points at to land in sink `name`, with an optional script. */
  url(name: string, script: { status?: number; delay?: number; body?: string } = {}): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(script)) if (v !== undefined) q.set(k, String(v));
    return `${this.#r.baseUrl}/_sink/${encodeURIComponent(name)}${q.size > 0 ? `?${q}` : ''}`;
  }
}

/** The server's clock; movable with `--dev --clock virtual`. */
export class ClockResource {
  readonly #r: Requester;

  constructor(requester: Requester) {
    this.#r = requester;
  }

  /** The server's time. */
  async now(): Promise<Date> {
    const answer = await this.#r.request<ClockState>({ method: 'GET', path: '/v1/clock', retry: true });
    return new Date(answer.now);
  }

  /**
   * Moves the virtual clock forward by `seconds`, or to the time `to`; resolves with the new
   * time once the attempts, retries, webhooks and schedules it made due have run.
   */
  async advance(by: number | { to: Date | string }): Promise<Date> {
    const body = typeof by === 'number' ? { seconds: by } : { to: typeof by.to === 'string' ? by.to : by.to.toISOString() };
    const answer = await this.#r.request<ClockState>({ method: 'POST', path: '/v1/clock/advance', body, extraTimeout: 60 });
    return new Date(answer.now);
  }
}
