// Delivers task outcomes to `webhookUrl` (api.md §5): the same claim → send → decide → finish
// loop as the scheduler (loop.ts), over the delivery columns. Never changes a task's own status.
import type { Clock } from '../clock.js';
import type { Logger } from '../log.js';
import type { ClaimedDelivery, DeliveryUnclaim, Store } from '../store/store.js';
import { isBatchId } from '../shared/ids.js';
import { HOST_WAIT_MS, type HostTable, type HostTicket } from './hosts.js';
import { parseRetryAfter } from './retry-after.js';
import { decideDelivery } from './decide.js';
import { send, type Outbound } from './deliver.js';
import { outboundHeaders } from './headers.js';
import { InFlight, Loop, type PassResult } from './loop.js';

export interface WebhookSenderOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  agent: Outbound;
  signingKey: Buffer;
  /** Max deliveries in flight. */
  concurrency: number;
  userAgent: string;
  random?: () => number;
  /** Backstop poll interval in ms (default 1000). */
  backstopMs?: number;
  /** Per-origin circuit breakers and limits (api.md §12), shared with the scheduler; none: every origin is admitted. */
  hosts?: HostTable;
  /** Called as each delivery request ends, with its duration in ms and the decision (for metrics). */
  onDelivery?: (d: { durationMs: number; next: 'delivered' | 'pending' | 'failed' }) => void;
}

interface Sending {
  controller: AbortController;
  deadline: number;
}

export class WebhookSender {
  private readonly inFlight: InFlight<Sending>;

  /** Deliveries being sent now. */
  get deliveriesInFlight(): number {
    return this.inFlight.size;
  }
  /** The wake/pass/arm loop (its `busy` tells a virtual clock when work has settled). */
  readonly loop: Loop;
  private readonly random: () => number;

  constructor(private readonly o: WebhookSenderOptions) {
    this.random = o.random ?? Math.random;
    this.inFlight = new InFlight(o.clock);
    this.loop = new Loop({
      name: 'webhook sender', clock: o.clock, log: o.log, backstopMs: o.backstopMs ?? 1000,
      pass: () => this.pass(), nextAt: () => this.o.store.nextDeliveryAt(),
    });
  }

  /** When the sender's timer next wakes it (ms since the epoch), if armed: the next delivery's run time. */
  get wakeAt(): number | undefined {
    return this.loop.wakeAt;
  }

  /** Asks for a claim soon (a task with a webhookUrl just ended); many calls in one tick make one claim. */
  wake(): void {
    this.loop.wake();
  }

  private async pass(): Promise<PassResult> {
    const free = this.o.concurrency - this.inFlight.size;
    // With every slot busy, a finishing delivery wakes us; a timer for a due delivery would spin.
    if (free <= 0) return 'busy';
    const now = this.o.clock.now();
    const claimed = await this.o.store.claimDeliveries(free, now);
    // api.md §12: a receiver whose origin has an open circuit, a full limit or a Retry-After delay
    // waits unsent (its attempt taken back), and no receiver holds more than half the slots, so
    // one dead receiver cannot hold up deliveries to the others.
    const back: DeliveryUnclaim[] = [];
    for (const d of claimed) {
      // A batch's batch.done delivery (api.md §13) has no give-back in the store: it is sent unguarded.
      const a = this.o.hosts && !isBatchId(d.id) ? this.o.hosts.admit(d.webhookUrl, now, this.share) : { ok: true as const, ticket: undefined };
      if (a.ok) this.start(d, a.ticket);
      else back.push({ id: d.id, outcome: d.outcome, attempt: d.attempt, runAt: Math.max(a.until ?? 0, now + HOST_WAIT_MS) });
    }
    if (back.length > 0) await this.o.store.unclaimDeliveries(back);
    if (claimed.length === free) return 'again';
    return this.inFlight.size < this.o.concurrency ? 'done' : 'busy';
  }

  /** Deliveries in flight to one origin at most: half the slots (at least 1). */
  private get share(): number {
    return Math.max(1, Math.ceil(this.o.concurrency / 2));
  }

  private start(d: ClaimedDelivery, host: HostTicket | undefined): void {
    const controller = new AbortController();
    const now = this.o.clock.now();
    const entry: Sending = { controller, deadline: now + d.timeoutMs };
    this.inFlight.add(d.id, entry);
    // api.md §16: each outcome has its own id, kept by every re-delivery of that outcome
    // a batch's batch.done (api.md §13) names the batch instead of a task
    const ours: Record<string, string> = d.kind === 'batch' ? { 'aq-batch-id': d.id, 'aq-delivery-attempt': String(d.attempt) } : { 'aq-task-id': d.id, 'aq-delivery-attempt': String(d.attempt) };
    const headers = outboundHeaders({}, ours, {
      id: `${d.id}.${d.outcome}`, body: d.bodyJson, timestamp: Math.floor(now / 1000), key: this.o.signingKey, userAgent: this.o.userAgent,
    });
    const delivery = send(this.o.agent, {
      url: d.webhookUrl, method: 'POST', headers, body: d.bodyJson, signal: controller.signal, timeoutMs: d.timeoutMs, maxResultBytes: 0, keepBody: false,
    }).then(async (outcome) => {
      this.inFlight.delete(d.id, entry);
      const at = this.o.clock.now();
      this.o.hosts?.finish(host, outcome, outcome.kind === 'response' ? parseRetryAfter(outcome.retryAfter, at) : undefined, at);
      const next = decideDelivery(outcome, d, { url: d.webhookUrl }, at, this.random());
      this.o.onDelivery?.({ durationMs: outcome.durationMs, next: next.status });
      const httpStatus = outcome.kind === 'response' ? outcome.status : undefined;
      await this.o.store.finishDeliveries([{ id: d.id, outcome: d.outcome, attempt: d.attempt, durationMs: outcome.durationMs, httpStatus, next, now: at }]);
      this.o.log.info('webhook ' + next.status, { [d.kind === 'batch' ? 'batch' : 'task']: d.id, outcome: d.outcome, attempt: d.attempt, error: next.status === 'delivered' ? undefined : next.error.type });
      this.wake();
    });
    this.loop.track(delivery, 'recording a webhook delivery failed');
  }

  /** Stops claiming; waits up to `graceMs` for deliveries in flight, then interrupts them. */
  async stop(graceMs: number): Promise<void> {
    await this.loop.stop(graceMs, () => this.inFlight.abortAll('interrupted'));
    this.inFlight.close();
  }
}
