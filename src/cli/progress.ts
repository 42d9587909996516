// A one-line progress bar for long imports: count, rate, percentage and ETA, redrawn in
// place on a TTY at most 10 times a second. Silent when the stream is not a TTY.
import { count, span } from './format.js';

/** Progress of a job measured in `done` units out of `total` (bytes, say) while counting `items`. */
export class ProgressBar {
  readonly #stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  readonly #started = Date.now();
  readonly #label: string;
  #lastDraw = 0;
  #drawn = false;

  /** `label` names the items ("tasks"); `total` is the size of the whole job in `done` units, if known. */
  constructor(stream: NodeJS.WritableStream & { isTTY?: boolean; columns?: number }, label: string, readonly total?: number) {
    this.#stream = stream;
    this.#label = label;
  }

  /** Redraws with `items` finished and `done` of `total` units processed; throttled unless `force`. */
  update(items: number, done: number, force = false): void {
    if (!this.#stream.isTTY) return;
    const now = Date.now();
    if (!force && now - this.#lastDraw < 100) return;
    this.#lastDraw = now;
    this.#drawn = true;
    this.#stream.write(`\r\x1b[2K${progressLine(items, done, this.total, now - this.#started, this.#label)}`);
  }

  /** Erases the bar, leaving the line free for a summary. */
  clear(): void {
    if (this.#drawn) this.#stream.write('\r\x1b[2K');
    this.#drawn = false;
  }
}

/**
 * The text of the bar: "[######------]  45%  4,500 tasks  2,300/s  ETA 3s". Without a
 * total (standard input) only count and rate. Pure, for tests.
 */
export function progressLine(items: number, done: number, total: number | undefined, elapsedMs: number, label: string): string {
  const secs = elapsedMs / 1000;
  const rate = secs > 0 ? items / secs : 0;
  const parts = [`${count(items)} ${label}`, `${count(rate)}/s`];
  if (total && total > 0) {
    const frac = Math.min(1, done / total);
    const width = 24;
    const filled = Math.round(frac * width);
    const eta = frac > 0 && frac < 1 ? span(Math.ceil((secs / frac) * (1 - frac))) : '-';
    parts.unshift(`[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`, `${String(Math.floor(frac * 100)).padStart(3)}%`);
    parts.push(`ETA ${frac >= 1 ? '0s' : eta}`);
  }
  return parts.join('  ');
}
