// Purges terminal tasks older than the retention (api.md §6 --retention) in small batches,
// yielding between them, so a backlog of millions never stalls the server.
import { setTimer, type Clock } from './clock.js';
import type { Logger } from './log.js';
import type { Store } from './store/store.js';

export interface RetentionOptions {
  store: Store;
  clock: Clock;
  log: Logger;
  /** Age (ms) after which terminal tasks are purged. */
  retentionMs: number;
  /** Tasks deleted per transaction (default 200). */
  batchSize?: number;
  /** Pause between sweeps when nothing is left to purge, in ms (default 10 s). */
  intervalMs?: number;
  /** Whether this node leads the cluster (api.md §9: retention runs on the leader only); default always. */
  leads?: () => boolean;
}

export class Retention {
  private cancelTimer: (() => void) | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  /** Tasks purged since start. */
  purged = 0;

  constructor(private readonly o: RetentionOptions) {}

  start(): void {
    this.schedule(1000);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    // On the injected clock: under a virtual clock (api.md §15) retention follows it.
    this.cancelTimer = setTimer(this.o.clock, () => {
      this.running = this.sweep().then(
        () => undefined,
        () => undefined,
      ).finally(() => (this.running = undefined));
    }, ms);
  }

  /** Purges until nothing expired is left (or stopped), one small batch per event-loop turn. */
  async sweep(): Promise<number> {
    const batch = this.o.batchSize ?? 200;
    let total = 0;
    try {
      while (!this.stopped && (this.o.leads?.() ?? true)) {
        const n = await this.o.store.purgeExpired(this.o.clock.now() - this.o.retentionMs, batch);
        total += n;
        if (n < batch) break;
        await new Promise((r) => setImmediate(r));
      }
      if (total > 0) this.o.log.info('purged expired tasks', { count: total });
    } catch (err) {
      this.o.log.warn('retention purge failed; will try again', { err: (err as Error).message });
    }
    this.purged += total;
    // Under a virtual clock a sweep per virtual hour: ten-second sweeps would cost a week of them per advance.
    this.schedule(this.o.intervalMs ?? (this.o.clock.virtual ? 3_600_000 : 10_000));
    return total;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.cancelTimer?.();
    await this.running;
  }
}
