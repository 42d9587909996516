// Option-argument parsers of the CLI. Each throws commander's InvalidArgumentError, which
// the program reports as a usage error (exit 2) naming the option.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { parseDuration } from '../shared/units.js';
import { TASK_STATUSES, type TaskStatus } from '../shared/types.js';

/** An integer from `min` to `max`. */
export function int(min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    return n;
  };
}

/** Seconds from "30", "90s", "5m", "2h", "1d" (fractions allowed: "1.5"). */
export function seconds(value: string): number {
  try {
    return parseDuration(value) / 1000;
  } catch {
    throw new InvalidArgumentError('expected seconds, or a duration such as 30s, 5m, 2h.');
  }
}

/**
 * A positive number, or "none" to remove a limit. "none" stays a string here because
 * commander turns a parser's null into ''; see {@link noneToNull}.
 */
export function limitOrNone(value: string): number | 'none' {
  if (value.trim().toLowerCase() === 'none') return 'none';
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number, or "none".');
  return n;
}

/** The value of a {@link limitOrNone} option for the API: a number, or null for "none". */
export function noneToNull(value: number | 'none'): number | null {
  return value === 'none' ? null : value;
}

/** One of the task statuses. */
export function status(value: string): TaskStatus {
  if (!TASK_STATUSES.includes(value as TaskStatus)) throw new InvalidArgumentError(`expected one of ${TASK_STATUSES.join(', ')}.`);
  return value as TaskStatus;
}

/** Collects a repeatable option into an array. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Collects repeatable `K:V` headers into an object. */
export function header(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const colon = value.indexOf(':');
  const name = colon > 0 ? value.slice(0, colon).trim() : '';
  if (!name) throw new InvalidArgumentError('expected Name:value, e.g. --header "X-Tenant: acme".');
  return { ...previous, [name]: value.slice(colon + 1).trim() };
}

/** An absolute http(s) URL. */
export function httpUrl(value: string): string {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    throw new InvalidArgumentError('expected an absolute http:// or https:// URL.');
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new InvalidArgumentError('expected an http:// or https:// URL.');
  return value;
}

/** The whole of standard input, as text. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** The text of a file, or of standard input for "-". */
export async function readText(file: string): Promise<string> {
  return file === '-' ? readStdin() : readFileSync(file, 'utf8');
}

/** Parses JSON given on the command line or in a file; `source` names it in the error. */
export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`${source} is not valid JSON: ${(err as Error).message}`);
  }
}
