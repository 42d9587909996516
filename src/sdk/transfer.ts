// `client.transfer`: backup, export and import (api.md §15). Export streams JSON lines; import
// sends them back in calls of up to MAX_IMPORT_BATCH; backup streams the SQLite file.
import type { ExportLine } from '../shared/transfer.js';
import type { TaskStatus } from '../shared/types.js';
import { AsyncQueueError } from './errors.js';
import type { Requester } from './request.js';

export class TransferResource {
  readonly #r: Requester;

  constructor(requester: Requester) {
    this.#r = requester;
  }

  /** Every task (newest first) with its attempts, as the server streams them; filter by `status` and `queue`. */
  async *export(filter: { status?: TaskStatus; queue?: string; signal?: AbortSignal } = {}): AsyncGenerator<ExportLine> {
    for await (const line of this.exportText(filter)) yield JSON.parse(line) as ExportLine;
  }

  /** The export's lines as text, exactly as sent (for writing to a file). */
  async *exportText(filter: { status?: TaskStatus; queue?: string; signal?: AbortSignal } = {}): AsyncGenerator<string> {
    const { res } = await this.#r.open({ method: 'GET', path: '/v1/export', query: { status: filter.status, queue: filter.queue }, headers: { accept: 'application/x-ndjson' }, signal: filter.signal, stream: true });
    if (!res.body) return;
    const decoder = new TextDecoder();
    let rest = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        rest += decoder.decode(chunk, { stream: true });
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, nl);
          rest = rest.slice(nl + 1);
          if (line) yield line;
        }
      }
    } catch (err) {
      throw new AsyncQueueError(0, 'unreachable', `the export from AsyncQueue at ${this.#r.baseUrl} broke off`, { cause: err });
    }
    if (rest.trim()) throw new AsyncQueueError(0, 'bad_response', `the export from AsyncQueue at ${this.#r.baseUrl} ended mid-line`);
  }

  /** Imports exported lines (at most 1,000 per call), all or nothing; ids already stored are skipped. */
  async import(lines: ExportLine[]): Promise<{ imported: number; skipped: number }> {
    // Safe to repeat: a second import of the same ids skips them.
    return this.#r.request({ method: 'POST', path: '/v1/import', body: { items: lines }, retry: true });
  }

  /** A consistent copy of the server's SQLite database, as a byte stream (501 `not_supported` on PostgreSQL). */
  async backup(opts: { signal?: AbortSignal } = {}): Promise<ReadableStream<Uint8Array>> {
    const { res } = await this.#r.open({ method: 'GET', path: '/v1/backup', headers: { accept: 'application/vnd.sqlite3' }, signal: opts.signal, stream: true });
    if (!res.body) throw new AsyncQueueError(res.status, 'bad_response', 'the backup answer had no body');
    return res.body as ReadableStream<Uint8Array>;
  }
}
