// This node's membership of the cluster (api.md §9): it heartbeats (database time) every third
// of --node-timeout, holds or waits for the leader's lease, and, while it leads, rescues the
// running work of dead nodes. Retention and the schedule runner ask `leads` before they act, so
// they run on one node. With SQLite the one process is the whole cluster and always leads.
import type { Logger } from './log.js';
import type { ClusterNode, Store } from './store/store.js';

export interface ClusterOptions {
  store: Store;
  log: Logger;
  id: string;
  name: string;
  /** --node-timeout in ms: a heartbeat older than this is a dead node. */
  timeoutMs: number;
  inFlight: () => number;
  /** Called when this node becomes leader or stops being it. */
  onLeadership?: (leader: boolean) => void;
  /** Called after a rescue made work pending again (wake the dispatcher and the webhook sender). */
  onRescued?: (r: { tasks: number; deliveries: number }) => void;
}

export class Cluster {
  readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private beating: Promise<void> | undefined;
  /** Until when (performance.now() ms) the lease surely holds: its renewal was sent before this minus the timeout. */
  private leaseUntil = -Infinity;
  private wasLeader = false;
  /** Since when (performance.now() ms) heartbeats have succeeded without a failure between. */
  private healthySince: number | undefined;
  private failing = false;
  private first = true;

  constructor(private readonly o: ClusterOptions) {}

  get id(): string {
    return this.o.id;
  }

  /** Heartbeat interval: a third of the node timeout. */
  get intervalMs(): number {
    return Math.max(100, Math.floor(this.o.timeoutMs / 3));
  }

  /** True while this node holds an unexpired leader lease (as far as its own clock can tell). */
  get leads(): boolean {
    return !this.stopped && performance.now() < this.leaseUntil;
  }

  /** The first heartbeat (so the node is alive before it claims anything), then one every interval. */
  async start(): Promise<void> {
    await this.beat();
    this.arm();
  }

  private arm(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.beating = this.beat().finally(() => {
        this.beating = undefined;
        this.arm();
      });
    }, this.intervalMs);
  }

  private async beat(): Promise<void> {
    const sent = performance.now();
    try {
      const r = await this.o.store.heartbeat({ id: this.o.id, name: this.o.name, startedAt: this.startedAt, inFlight: this.o.inFlight(), first: this.first }, this.o.timeoutMs);
      this.first = false;
      if (this.failing) this.o.log.info('heartbeats reach the database again', { node: this.o.id });
      this.failing = false;
      this.healthySince ??= sent;
      this.leaseUntil = r.leader ? sent + this.o.timeoutMs : -Infinity;
    } catch (err) {
      if (!this.failing) this.o.log.warn('heartbeat failed; this node leads nothing until the database answers', { node: this.o.id, err: (err as Error).message });
      this.failing = true;
      this.healthySince = undefined;
    }
    const leads = this.leads;
    if (leads !== this.wasLeader) {
      this.wasLeader = leads;
      this.o.log.info(leads ? 'this node leads the cluster' : 'this node no longer leads the cluster', { node: this.o.id });
      this.o.onLeadership?.(leads);
    }
    // After an outage every heartbeat is old: rescue only once this node has beaten for a whole
    // node timeout, so the other nodes have had the time to beat again too.
    if (leads && this.healthySince !== undefined && performance.now() - this.healthySince >= this.o.timeoutMs) await this.rescue();
  }

  private async rescue(): Promise<void> {
    try {
      const r = await this.o.store.rescueDeadNodes(this.o.timeoutMs);
      if (r.tasks + r.deliveries > 0) {
        this.o.log.warn('took over the running work of dead nodes', { tasks: r.tasks, deliveries: r.deliveries, nodes: r.nodes });
        this.o.onRescued?.(r);
      }
    } catch (err) {
      this.o.log.warn('rescuing the work of dead nodes failed; will try again', { err: (err as Error).message });
    }
  }

  /** The nodes of the cluster; this node's in-flight count is the live one. */
  async nodes(): Promise<ClusterNode[]> {
    const list = await this.o.store.listNodes(this.o.timeoutMs);
    return list.map((n) => (n.id === this.o.id ? { ...n, inFlight: this.o.inFlight() } : n));
  }

  /** Stops heartbeating and leaves the cluster (its lease goes with it). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.beating;
    clearTimeout(this.timer);
    await this.o.store.leaveCluster(this.o.id).catch(() => undefined);
  }
}
