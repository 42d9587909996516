// `client.queues`: list queues with their counts and change their limits (api.md §4).
import type { Queue, QueueUpdate } from '../shared/types.js';
import type { Requester } from './request.js';

/** The queue routes of one server. */
export class QueuesResource {
  readonly #r: Requester;

  constructor(requester: Requester) {
    this.#r = requester;
  }

  /** Every queue with its settings and task counts by state. */
  async list(opts: { signal?: AbortSignal } = {}): Promise<Queue[]> {
    const answer = await this.#r.request<{ queues: Queue[] }>({ expect: 'queues', method: 'GET', path: '/v1/queues', retry: true, signal: opts.signal });
    return answer.queues;
  }

  /**
   * Changes a queue's settings (creating the queue if needed): `concurrency` (max attempts in
   * flight, null = only the global limit), `ratePerSecond` (null = none), `keyConcurrency` (max
   * attempts in flight per `concurrencyKey`, keys taking turns; null = none, api.md §12) and `paused`.
   * Fields left out keep their value.
   */
  async update(name: string, update: QueueUpdate): Promise<Queue> {
    return this.#r.request<Queue>({ expect: 'name', method: 'PUT', path: `/v1/queues/${encodeURIComponent(name)}`, body: update, retry: true });
  }

  /** Deletes a queue with no pending or running task (404 `not_found`, 409 `conflict` otherwise); its finished tasks stay. */
  async delete(name: string): Promise<void> {
    await this.#r.request<void>({ method: 'DELETE', path: `/v1/queues/${encodeURIComponent(name)}` });
  }

  /** Stops dispatching the queue's tasks; it keeps accepting new ones. Like `update(name, { paused: true })`. */
  async pause(name: string): Promise<Queue> {
    return this.update(name, { paused: true });
  }

  /** Resumes dispatching a paused queue. Like `update(name, { paused: false })`. */
  async resume(name: string): Promise<Queue> {
    return this.update(name, { paused: false });
  }
}
