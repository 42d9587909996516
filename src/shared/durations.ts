// QStash's duration strings (api.md §14 `Upstash-Delay`, `Upstash-Timeout`, flow-control
// `period`): `10s`, `5m`, `1d10h30m`, or a bare number of seconds.

/** Seconds in `v` (`1d10h30m`, `90s`, `90`), or undefined when it is not such a duration. */
export function parseQstashDuration(v: string): number | undefined {
  const s = v.trim();
  if (/^\d{1,12}$/.test(s)) return Number(s);
  const m = /^(?:(\d{1,9})d)?(?:(\d{1,9})h)?(?:(\d{1,9})m)?(?:(\d{1,12})s)?$/.exec(s);
  if (!m || s === '') return undefined;
  const [, d, h, min, sec] = m;
  return Number(d ?? 0) * 86_400 + Number(h ?? 0) * 3600 + Number(min ?? 0) * 60 + Number(sec ?? 0);
}
