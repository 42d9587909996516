// Delivers task outcomes to `webhookUrl` (api.md §5): the same claim → send → decide → finish
// loop as the scheduler, over the delivery columns. Never changes a task's own status.
import type { Agent } from 'undici';
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { ClaimedDelivery, Store } from '../store/store.js';
import { decideDelivery } from './decide.js';
import { send } from './deliver.js';
import { outboundHeaders } from './headers.js';

export interface WebhookSenderOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  agent: Agent;
  signingKey: Buffer;
  /** Max deliveries in flight. */
  concurrency: number;
  userAgent: string;
  random?: () => number;
  /** Backstop poll interval in ms (default 1000). */
  backstopMs?: number;
  /** Called as each delivery request ends, with its duration in ms and the decision (for metrics). */
  onDelivery?: (d: { durationMs: number; next: 'delivered' | 'pending' | 'failed' }) => void;
}

export class WebhookSender {
  private inFlight = new Map<string, AbortController>();
  private readonly finishing = new Set<Promise<unknown>>();
  private scheduled = false;
  private draining = false;
  private again = false;
  private stopping = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly backstop: NodeJS.Timeout;
  private readonly random: () => number;

  constructor(private readonly o: WebhookSenderOptions) {
    this.random = o.random ?? Math.random;
    this.backstop = setInterval(() => this.wake(), o.backstopMs ?? 1000).unref();
  }

  wake(): void {
    if (this.scheduled || this.stopping) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.stopping) return;
    if (this.draining) {
      // A wake during a drain (a task just ended) is kept, or its delivery waits for the backstop.
      this.again = true;
      return;
    }
    this.draining = true;
    this.again = false;
    try {
      const free = this.o.concurrency - this.inFlight.size;
      if (free > 0) {
        const claimed = await this.o.store.claimDeliveries(free, this.o.clock.now());
        for (const d of claimed) this.start(d);
        if (claimed.length === free) this.wake();
      }
      clearTimeout(this.timer);
      // With every slot busy, a finishing delivery wakes us; a timer for a due delivery would spin.
      if (this.inFlight.size < this.o.concurrency) {
        const next = await this.o.store.nextDeliveryAt();
        if (next !== null && !this.stopping) {
          this.timer = setTimeout(() => this.wake(), Math.max(1, next - this.o.clock.now())).unref();
        }
      }
    } catch (err) {
      this.o.log.error('claiming webhook deliveries failed', { err });
    } finally {
      this.draining = false;
    }
    if (this.again) this.wake();
  }

  private start(d: ClaimedDelivery): void {
    const controller = new AbortController();
    this.inFlight.set(d.id, controller);
    const timeoutMs = d.timeoutMs;
    const timeout = setTimeout(() => controller.abort('timeout'), timeoutMs);
    const now = this.o.clock.now();
    const headers = outboundHeaders({}, { 'aq-task-id': d.id, 'aq-delivery-attempt': String(d.attempt) }, {
      id: d.id, body: d.bodyJson, timestamp: Math.floor(now / 1000), key: this.o.signingKey, userAgent: this.o.userAgent,
    });
    const p = send(this.o.agent, {
      url: d.webhookUrl, method: 'POST', headers, body: d.bodyJson, signal: controller.signal, timeoutMs, maxResultBytes: 0, keepBody: false,
    })
      .then(async (outcome) => {
        clearTimeout(timeout);
        if (this.inFlight.get(d.id) === controller) this.inFlight.delete(d.id);
        const at = this.o.clock.now();
        const next = decideDelivery(outcome, d, { url: d.webhookUrl }, at, this.random());
        this.o.onDelivery?.({ durationMs: outcome.durationMs, next: next.status });
        await this.o.store.finishDeliveries([{ id: d.id, next, now: at }]);
        this.o.log.info('webhook ' + next.status, { task: d.id, attempt: d.attempt, error: next.status === 'delivered' ? undefined : next.error.type });
        this.wake();
      })
      .catch((err) => this.o.log.error('recording a webhook delivery failed', { err, task: d.id }))
      .finally(() => this.finishing.delete(p));
    this.finishing.add(p);
  }

  /** Stops claiming; waits up to `graceMs` for deliveries in flight, then interrupts them. */
  async stop(graceMs: number): Promise<void> {
    this.stopping = true;
    clearTimeout(this.timer);
    clearInterval(this.backstop);
    const until = Date.now() + graceMs;
    while (this.inFlight.size > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    for (const c of this.inFlight.values()) c.abort('interrupted');
    while (this.finishing.size > 0) await Promise.allSettled([...this.finishing]);
  }
}
