// The one listening connection of a node (api.md §9): LISTEN aq_tasks and aq_changes on a
// client of its own, reconnecting with backoff (200 ms doubling to 5 s) when it drops. Other
// nodes' task changes are announced on store.signals as `remote` (this node's own are announced
// by the store at commit, so they are skipped here by their origin); queue and schedule changes
// reach `onChange`. After a reconnect `onChange('reconnected')` lets the caller re-read what it
// may have missed (the backstop polls catch the rest).
import pg from 'pg';
import type { TaskEvent, TaskStatus } from '../../shared/types.js';
import { taskEvent, type StoreSignals } from '../signals.js';

export type ChangeKind = 'queues' | 'schedules' | 'reconnected';

export interface ListenerOptions {
  config: pg.ClientConfig;
  /** This node's origin tag (the `aq.node` setting of its connections): its own notifications are skipped. */
  origin: string;
  signals: StoreSignals;
  onChange: (kind: ChangeKind) => void;
  onError: (err: Error) => void;
}

const STATUSES = new Set<TaskStatus>(['pending', 'running', 'completed', 'failed', 'cancelled']);

/** The events of one aq_tasks payload, or undefined when it is this node's own (or malformed). */
export function parseTasksPayload(payload: string, origin: string): TaskEvent[] | undefined {
  const nl = payload.indexOf('\n');
  if (nl < 0 || payload.slice(0, nl) === origin) return undefined;
  const out: TaskEvent[] = [];
  for (const line of payload.slice(nl + 1).split('\n')) {
    try {
      const [id, queue, status, attempts, at] = JSON.parse(line) as [string, string, TaskStatus, number, number];
      if (typeof id === 'string' && typeof queue === 'string' && STATUSES.has(status)) out.push(taskEvent(id, queue, status, Number(attempts), Number(at)));
    } catch {
      // not ours: ignored
    }
  }
  return out;
}

export class Listener {
  private client: pg.Client | undefined;
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private delay = 200;
  private connected = false;
  /** Connections made so far (1 after the first; more after reconnects). */
  connects = 0;

  constructor(private readonly o: ListenerOptions) {}

  /** Connects and listens; resolves once listening (or rejects when the first connection fails). */
  async start(): Promise<void> {
    await this.connect().catch(() => undefined); // retried with backoff (see lost())
  }

  /** True while the listening connection is up. */
  get listening(): boolean {
    return this.connected;
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ ...this.o.config, application_name: 'asyncqueue-listen' });
    this.client = client;
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('the listening connection ended')));
    client.on('notification', (m) => {
      if (m.channel === 'aq_tasks') {
        const events = parseTasksPayload(m.payload ?? '', this.o.origin);
        if (events && events.length > 0) this.o.signals.fire(events, 'remote');
      } else if (m.channel === 'aq_changes' && (m.payload === 'queues' || m.payload === 'schedules')) this.o.onChange(m.payload);
    });
    try {
      await client.connect();
      await client.query('LISTEN aq_tasks; LISTEN aq_changes');
    } catch (err) {
      this.lost(client, err as Error);
      throw err;
    }
    if (this.closed) {
      await client.end().catch(() => undefined);
      return;
    }
    this.connected = true;
    this.delay = 200;
    if (++this.connects > 1) this.o.onChange('reconnected');
  }

  private lost(client: pg.Client, err: Error): void {
    if (this.client !== client) return;
    this.client = undefined;
    this.connected = false;
    client.removeAllListeners('notification');
    client.end().catch(() => undefined);
    if (this.closed) return;
    this.o.onError(err);
    this.retry();
  }

  private retry(): void {
    if (this.closed || this.timer) return;
    const delay = this.delay;
    this.delay = Math.min(this.delay * 2, 5000);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.connect().catch(() => undefined); // lost() has already scheduled the next try
    }, delay);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    const c = this.client;
    this.client = undefined;
    this.connected = false;
    if (c) await c.end().catch(() => undefined);
  }
}
