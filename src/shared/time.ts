// ISO-8601 text of a millisecond time, remembering the last one: a burst of events, rows and
// log lines in one millisecond formats the time once.

let lastMs = NaN;
let lastIso = '';

/** `new Date(ms).toISOString()`, computed once per distinct millisecond in a row. */
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastIso = new Date(ms).toISOString();
    lastMs = ms;
  }
  return lastIso;
}
