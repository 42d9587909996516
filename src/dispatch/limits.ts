// Slots and rates: the global concurrency, each queue's concurrency, token buckets and pause.
// Says how many tasks each queue may start now, sharing free slots fairly across queues.
import type { QueueLimits } from '../store/store.js';
import * as tb from './token-bucket.js';

export class Limits {
  private inFlightTotal = 0;
  private readonly inFlight = new Map<string, number>();
  private readonly buckets = new Map<string, tb.Bucket>();
  private queues = new Map<string, QueueLimits>();
  private rotation = 0;
  private lastList: QueueLimits[] | undefined;

  /** `concurrency`: max attempts in flight across all queues. */
  constructor(private readonly concurrency: number) {}

  /** Replaces the queue settings (after a PUT /v1/queues/:name or at start). */
  setQueues(list: QueueLimits[]): void {
    if (list === this.lastList) return; // the store hands back the same array until a queue changes
    this.lastList = list;
    this.queues = new Map(list.map((q) => [q.name, q]));
    for (const name of this.buckets.keys()) if (!this.queues.get(name)?.ratePerSecond) this.buckets.delete(name);
  }

  /** The global concurrency. */
  get capacity(): number {
    return this.concurrency;
  }

  get total(): number {
    return this.inFlightTotal;
  }

  free(): number {
    return Math.max(0, this.concurrency - this.inFlightTotal);
  }

  inFlightOf(queue: string): number {
    return this.inFlight.get(queue) ?? 0;
  }

  /** How many `queue` may start at `now` by its own limits (not the global one); 0 when paused. */
  capacityOf(queue: string, now: number): number {
    const q = this.queues.get(queue);
    if (!q) return Infinity;
    if (q.paused) return 0;
    let cap = q.concurrency === null ? Infinity : Math.max(0, q.concurrency - this.inFlightOf(queue));
    if (q.ratePerSecond) cap = Math.min(cap, tb.available(this.bucket(queue, q.ratePerSecond, now), q.ratePerSecond, now));
    return cap;
  }

  /** The queue's keyConcurrency (api.md §12), null when it has none. */
  keyConcurrencyOf(queue: string): number | null {
    return this.queues.get(queue)?.keyConcurrency ?? null;
  }

  /** Queues not paused and not at their concurrency limit (tokens aside). */
  openQueues(): string[] {
    const out: string[] = [];
    for (const q of this.queues.values()) {
      if (q.paused) continue;
      if (q.concurrency !== null && this.inFlightOf(q.name) >= q.concurrency) continue;
      out.push(q.name);
    }
    return out;
  }

  /** For an open queue waiting on its rate limit: when its next token comes (ms), else undefined. */
  tokenWaitUntil(queue: string, now: number): number | undefined {
    const q = this.queues.get(queue);
    if (!q?.ratePerSecond) return undefined;
    const at = tb.nextTokenAt(this.bucket(queue, q.ratePerSecond, now), q.ratePerSecond, now);
    return at > now ? at : undefined;
  }

  /**
   * Shares the free global slots among `due` queues: each gets an equal share capped by its own
   * capacity, and what a capped queue cannot use goes to the others (water-filling). The starting
   * queue rotates so that with fewer slots than queues none is starved.
   */
  allocate(due: string[], now: number): Map<string, number> {
    const out = new Map<string, number>();
    let remaining = this.free();
    if (remaining === 0 || due.length === 0) return out;
    const start = this.rotation++ % due.length;
    const order = [...due.slice(start), ...due.slice(0, start)]
      .map((name) => ({ name, cap: this.capacityOf(name, now) }))
      .filter((q) => q.cap > 0)
      .sort((a, b) => a.cap - b.cap);
    for (let i = 0; i < order.length && remaining > 0; i++) {
      const share = Math.ceil(remaining / (order.length - i));
      const give = Math.min(order[i]!.cap, share);
      out.set(order[i]!.name, give);
      remaining -= give;
    }
    return out;
  }

  /** Counts `n` attempts started in `queue` at `now` (slots and tokens). */
  acquire(queue: string, n: number, now: number): void {
    if (n <= 0) return;
    this.inFlightTotal += n;
    this.inFlight.set(queue, this.inFlightOf(queue) + n);
    const rate = this.queues.get(queue)?.ratePerSecond;
    if (rate) this.buckets.set(queue, tb.take(this.bucket(queue, rate, now), rate, now, n));
  }

  /** Frees the slot of one finished attempt. */
  release(queue: string): void {
    this.inFlightTotal--;
    const n = this.inFlightOf(queue) - 1;
    if (n <= 0) this.inFlight.delete(queue);
    else this.inFlight.set(queue, n);
  }

  private bucket(queue: string, rate: number, now: number): tb.Bucket {
    let b = this.buckets.get(queue);
    if (!b) this.buckets.set(queue, (b = tb.fullBucket(rate, now)));
    return b;
  }
}
