// The request sink of `serve --dev` (api.md §15): keeps the requests sent to /_sink/<name> so
// a developer can see exactly what a target or webhook receiver gets. In memory, per server
// process, bounded (oldest dropped first); the HTTP side is in api/routes/dev.ts.
import type { SinkRequest } from '../shared/dev.js';
import { verifySignature } from '../shared/signing.js';
import { deeperThan } from '../api/depth.js';

/** Deepest parsed body a sink keeps as JSON (levels of arrays and objects). */
const MAX_JSON_DEPTH = 64;

export type { SinkRequest };

export interface SinkOptions {
  /** The signing secret (`whsec_…`) requests are verified with. */
  secret: string;
  /** Requests kept per sink name (default 500). */
  maxPerSink?: number;
  /** Sink names kept; the least recently used is dropped past it (default 100). */
  maxSinks?: number;
  /** Body bytes kept per request (default 256 KiB). */
  maxBodyBytes?: number;
}

export type SinkListener = (r: SinkRequest) => void;

export class Sink {
  private readonly sinks = new Map<string, SinkRequest[]>();
  private readonly listeners = new Set<SinkListener>();
  private nextId = 1;
  readonly maxPerSink: number;
  readonly maxSinks: number;
  readonly maxBodyBytes: number;

  constructor(private readonly opts: SinkOptions) {
    this.maxPerSink = opts.maxPerSink ?? 500;
    this.maxSinks = opts.maxSinks ?? 100;
    this.maxBodyBytes = opts.maxBodyBytes ?? 256 * 1024;
  }

  /** Records a request; `now` is the server clock's time (ms), also used to check the signature's age. */
  record(r: Omit<SinkRequest, 'id' | 'receivedAt' | 'json' | 'signatureVerified'>, now: number): SinkRequest {
    let json: unknown = null;
    if (!r.truncated && r.body !== '') {
      try {
        json = JSON.parse(r.body);
        // A hostile body 10,000 levels deep parses, but answering it (JSON.stringify) would overflow
        // the stack: such a body is kept as text only.
        if (deeperThan(json, MAX_JSON_DEPTH)) json = null;
      } catch {
        json = null;
      }
    }
    const signed = r.headers['webhook-signature'] !== undefined;
    const signatureVerified = signed ? verifySignature({ secret: this.opts.secret, headers: r.headers, body: r.body, now }) : null;
    const entry: SinkRequest = { id: this.nextId++, receivedAt: new Date(now).toISOString(), ...r, json, signatureVerified };
    let list = this.sinks.get(r.sink);
    if (list) this.sinks.delete(r.sink); // re-insert: most recently used last
    else list = [];
    this.sinks.set(r.sink, list);
    list.push(entry);
    if (list.length > this.maxPerSink) list.splice(0, list.length - this.maxPerSink);
    while (this.sinks.size > this.maxSinks) this.sinks.delete(this.sinks.keys().next().value as string);
    for (const l of this.listeners) l(entry);
    return entry;
  }

  /** The requests of sink `name`, oldest first; only those with an id above `after` when given. */
  list(name: string, after = 0): SinkRequest[] {
    return (this.sinks.get(name) ?? []).filter((r) => r.id > after);
  }

  /** Sink names with their request counts, most recently used first. */
  names(): { name: string; count: number; lastAt: string | null }[] {
    return [...this.sinks].reverse().map(([name, list]) => ({ name, count: list.length, lastAt: list.at(-1)?.receivedAt ?? null }));
  }

  /** Forgets sink `name`'s requests; false when it had none. */
  clear(name: string): boolean {
    return this.sinks.delete(name);
  }

  on(listener: SinkListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
