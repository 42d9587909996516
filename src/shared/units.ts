// Parses the human units of flags and variables: sizes ("1mb") and durations ("7d", "30s").

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, k: 1024, mb: 1024 ** 2, m: 1024 ** 2, gb: 1024 ** 3, g: 1024 ** 3 };
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Bytes from "1mb", "512kb", "100" (bytes); throws RangeError on anything else. */
export function parseSize(text: string | number): number {
  if (typeof text === 'number') return checkNumber(text, text, 'size');
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = SIZE_UNITS[(m?.[2] || 'b').toLowerCase()];
  if (!m || unit === undefined) throw new RangeError(`not a size: "${text}" (use e.g. 512kb, 1mb)`);
  return checkNumber(Math.floor(Number(m[1]) * unit), text, 'size');
}

/** Milliseconds from "7d", "30s", "250ms", "1h"; a bare number is seconds. Throws RangeError otherwise. */
export function parseDuration(text: string | number): number {
  if (typeof text === 'number') return checkNumber(text * 1000, text, 'duration');
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = DURATION_UNITS[(m?.[2] || 's').toLowerCase()];
  if (!m || unit === undefined) throw new RangeError(`not a duration: "${text}" (use e.g. 30s, 15m, 7d)`);
  return checkNumber(Math.round(Number(m[1]) * unit), text, 'duration');
}

function checkNumber(n: number, text: string | number, what: string): number {
  if (!Number.isFinite(n) || n < 0) throw new RangeError(`not a ${what}: "${text}"`);
  return n;
}
