// `client.batches`: read a batch's counts, wait until every task of it has ended, and see or
// repeat its batch.done webhook's deliveries (api.md §13, §16).
import type { Batch, Delivery } from '../shared/types.js';
import { MAX_WAIT_SECONDS } from '../shared/types.js';
import type { Requester } from './request.js';

/** Options of `batches.wait`. */
export interface BatchWaitOptions {
  /** Give up after this many seconds and return the batch as it is (default: no limit). */
  timeout?: number;
  /** Seconds each long-poll may be held by the server (default 60, the maximum). */
  poll?: number;
  /** Called with the batch after each long-poll returns (a progress bar's hook). */
  onUpdate?: (batch: Batch) => void;
  signal?: AbortSignal;
}

/** The batch routes of one server. */
export class BatchesResource {
  readonly #r: Requester;

  constructor(requester: Requester) {
    this.#r = requester;
  }

  /** Reads a batch; with `wait` (seconds, ≤ 60) the server holds the answer until it is done or the time passes. */
  async get(id: string, opts: { wait?: number; signal?: AbortSignal } = {}): Promise<Batch> {
    return this.#r.request<Batch>({
      expect: 'counts', method: 'GET', path: `/v1/batches/${encodeURIComponent(id)}`, query: { wait: opts.wait }, retry: true,
      extraTimeout: opts.wait, signal: opts.signal,
    });
  }

  /** Every delivery attempt of the batch's `batch.done` webhook, oldest first (`outcome` is the n of `webhook-id: <batch id>.<n>`). */
  async deliveries(id: string, opts: { signal?: AbortSignal } = {}): Promise<Delivery[]> {
    const answer = await this.#r.request<{ deliveries: Delivery[] }>({
      expect: 'deliveries', method: 'GET', path: `/v1/batches/${encodeURIComponent(id)}/deliveries`, retry: true, signal: opts.signal,
    });
    return answer.deliveries;
  }

  /**
   * Sends the batch's latest `batch.done` to its `webhookUrl` again, with the same `webhook-id`
   * and a fresh set of retries; 409 `conflict` unless the batch is done with a webhookUrl.
   * Safe to repeat (a receiver dedupes on `webhook-id`), so transient failures are retried.
   */
  async redeliver(id: string): Promise<Batch> {
    return this.#r.request<Batch>({ expect: 'counts', method: 'POST', path: `/v1/batches/${encodeURIComponent(id)}/redeliver`, retry: true });
  }

  /**
   * Waits until every task of the batch has ended by repeating `GET ?wait=` long-polls, and
   * returns it. When `timeout` seconds pass first, returns the batch as it is then: check `done`.
   */
  async wait(id: string, opts: BatchWaitOptions = {}): Promise<Batch> {
    const deadline = opts.timeout === undefined ? Infinity : Date.now() + opts.timeout * 1000;
    const poll = Math.max(0, Math.min(MAX_WAIT_SECONDS, opts.poll ?? MAX_WAIT_SECONDS));
    for (;;) {
      const left = Math.ceil((deadline - Date.now()) / 1000);
      const batch = await this.get(id, { wait: Math.max(0, Math.min(poll, left)), signal: opts.signal });
      opts.onUpdate?.(batch);
      if (batch.done || Date.now() >= deadline) return batch;
    }
  }
}
