// Human output of the CLI: colour (only on a TTY, never with NO_COLOR), aligned tables,
// relative times ("3s ago"), durations and counts. Pure functions plus one Output sink;
// `--json` output bypasses all of this (see context.ts).
import type { TaskStatus } from '../shared/types.js';

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

/** SGR codes of the styles the CLI uses. */
const STYLES = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', blue: '34', magenta: '35', cyan: '36' } as const;
/** A text style of {@link Output.paint}. */
export type Style = keyof typeof STYLES;

/** True when `stream` should get colour: a TTY, NO_COLOR unset or empty (no-color.org), TERM not dumb. */
export function wantsColor(stream: { isTTY?: boolean }, env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(stream.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb';
}

/** The printable width of `text`, ignoring colour codes. */
export function visibleWidth(text: string): number {
  return [...text.replace(ANSI, '')].length;
}

/** Where human output goes: stdout for results, stderr for progress and errors, each with its own colour decision. */
export class Output {
  readonly color: boolean;
  readonly errColor: boolean;
  constructor(
    readonly stdout: NodeJS.WritableStream & { isTTY?: boolean } = process.stdout,
    readonly stderr: NodeJS.WritableStream & { isTTY?: boolean } = process.stderr,
    env: Record<string, string | undefined> = process.env,
  ) {
    this.color = wantsColor(stdout, env);
    this.errColor = wantsColor(stderr, env);
  }

  /** `text` in `style` when stdout gets colour, else unchanged. */
  paint(style: Style, text: string): string {
    return this.color ? `\x1b[${STYLES[style]}m${text}\x1b[0m` : text;
  }

  /** Like paint, for stderr. */
  paintErr(style: Style, text: string): string {
    return this.errColor ? `\x1b[${STYLES[style]}m${text}\x1b[0m` : text;
  }

  /** Writes lines to stdout. */
  line(...lines: string[]): void {
    for (const l of lines) this.stdout.write(l + '\n');
  }

  /** Writes lines to stderr (notes that must not mix with the output). */
  err(...lines: string[]): void {
    for (const l of lines) this.stderr.write(l + '\n');
  }

  /** A status in its colour: green completed, red failed, yellow running, cyan pending, dim cancelled. */
  status(status: TaskStatus | string): string {
    const style: Style | undefined = ({ completed: 'green', failed: 'red', running: 'yellow', pending: 'cyan', cancelled: 'dim' } as Record<string, Style>)[status];
    return style ? this.paint(style, status) : status;
  }
}

/**
 * Aligns rows into columns separated by two spaces; `align` marks right-aligned columns
 * (numbers). The last column is never padded. Cells may contain colour codes.
 */
export function table(header: string[], rows: string[][], opts: { right?: number[]; paint?: (h: string) => string } = {}): string[] {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((r) => visibleWidth(r[i] ?? ''))));
  const right = new Set(opts.right ?? []);
  const fmt = (row: string[]) =>
    row
      .map((cell, i) => {
        const pad = ' '.repeat(widths[i]! - visibleWidth(cell));
        if (right.has(i)) return pad + cell;
        return i === row.length - 1 ? cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  const head = fmt(header);
  return [opts.paint ? opts.paint(head) : head, ...rows.map(fmt)];
}

/** "just now", "3s ago", "5m ago", "2h ago", "3d ago", or "in 5s" for times ahead of `now` (ms). */
export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const diff = Math.round((now - t) / 1000);
  if (Math.abs(diff) < 1) return 'just now';
  const text = span(Math.abs(diff));
  return diff > 0 ? `${text} ago` : `in ${text}`;
}

/** A whole-unit span of seconds: "42s", "5m", "3h", "2d". */
export function span(seconds: number): string {
  if (seconds < 60) return `${Math.floor(seconds)}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86_400)}d`;
}

/** Milliseconds as "850ms", "1.2s", "2m05s". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** A count with thousands separators: 12,345. */
export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

/** One line of JSON of any value, cut to `max` characters with an ellipsis. */
export function brief(value: unknown, max = 120): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? 'null';
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? flat.slice(0, max - 1) + '…' : flat;
}
