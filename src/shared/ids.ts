// Task ids: "tsk_" + 10 chars of millisecond time + 14 random chars (Crockford base32),
// URL-safe and sorting by creation time (api.md §3).

const ALPHABET = '0123456789abcdefghjkmnpqrstvwxyz';
const pool = new Uint8Array(14 * 256);
let poolPos = pool.length;

function randomChars(n: number): string {
  if (poolPos + n > pool.length) {
    globalThis.crypto.getRandomValues(pool);
    poolPos = 0;
  }
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHABET[pool[poolPos++]! & 31];
  return s;
}

function timeChars(ms: number): string {
  let s = '';
  for (let i = 0; i < 10; i++) {
    s = ALPHABET[ms % 32]! + s;
    ms = Math.floor(ms / 32);
  }
  return s;
}

/** A new id with the given prefix (default "tsk_") for time `now` in ms. */
export function newId(now: number, prefix = 'tsk_'): string {
  return prefix + timeChars(now) + randomChars(14);
}

/** True when `id` has the shape of an id made by newId (cheap check before a lookup). */
export function isTaskId(id: string): boolean {
  return /^tsk_[0-9a-z]{24}$/.test(id);
}

/** True for a batch id (`bat_…`, api.md §13): batch and task ids share the deliveries history. */
export function isBatchId(id: string): boolean {
  return id.startsWith('bat_');
}
