// A hand-written check of the common create-task body, equivalent to CreateTaskSchema for the
// fields it knows. It only ever answers "valid, here is the input" or "not sure": anything it
// does not know or that fails goes to the zod schema, which stays the one source of the
// OpenAPI document and of every error message. test/api/fast-validate.test.ts checks both agree.
import { MAX_BATCH, type CreateTaskInput } from '../shared/types.js';
import { BatchSchema, CreateTaskSchema, FORBIDDEN_HEADERS, isRfc3339, MAX_HEADERS, MAX_URL_LENGTH } from './schemas.js';

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const BAD_VALUE = /[\r\n\0]/;
const QUEUE = /^[A-Za-z0-9_.-]{1,64}$/;
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);

const num = (v: unknown, min: number, max: number) => typeof v === 'number' && v >= min && v <= max;
const int = (v: unknown, min: number, max: number) => num(v, min, max) && Number.isInteger(v);
const str = (v: unknown, min: number, max: number) => typeof v === 'string' && v.length >= min && v.length <= max;
const plain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function httpUrl(v: unknown): boolean {
  if (typeof v !== 'string' || v.length > MAX_URL_LENGTH) return false;
  // Only plain ASCII without spaces, backslashes or '@' (so no credentials): what URL parsing
  // would rewrite or question goes to zod.
  if (!/^https?:\/\/[!#-?A-~]+$/.test(v) || v.includes('\\') || v.includes('@')) return false;
  const u = URL.parse(v);
  return u !== null && (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '' && u.username === '' && u.password === '';
}

function headers(v: unknown): boolean {
  if (!plain(v)) return false;
  let n = 0;
  for (const k in v) {
    // zod builds a new record, where a "__proto__" key is lost: that one is zod's to answer.
    if (!Object.hasOwn(v, k) || k === '__proto__') return false;
    const value = v[k];
    if (++n > MAX_HEADERS || k.length > 256 || !TOKEN.test(k) || FORBIDDEN_HEADERS.has(k.toLowerCase())) return false;
    if (typeof value !== 'string' || value.length > 8192 || BAD_VALUE.test(value)) return false;
  }
  return true;
}

function backoff(v: unknown): boolean {
  if (!plain(v)) return false;
  for (const k in v) {
    const x = v[k];
    if (k === 'initial') { if (!num(x, 0, 86_400)) return false; }
    else if (k === 'factor') { if (!num(x, 1, 100)) return false; }
    else if (k === 'max') { if (!num(x, 0, 604_800)) return false; }
    else return false;
  }
  return true;
}

function labels(v: unknown): boolean {
  if (!Array.isArray(v) || v.length > 10) return false;
  for (const l of v) if (!str(l, 1, 64)) return false;
  return true;
}

/** One checker per field the fast path knows; each is CreateTaskSchema's rule for that field. */
const FIELDS: Record<string, (v: unknown) => boolean> = {
  targetUrl: httpUrl,
  payload: () => true,
  method: (v) => typeof v === 'string' && METHODS.has(v),
  headers,
  webhookUrl: httpUrl,
  webhookRetries: (v) => int(v, 0, 100),
  retries: (v) => int(v, 0, 100),
  timeout: (v) => num(v, 1, 86_400),
  backoff,
  delay: (v) => num(v, 0, 31_536_000),
  runAt: (v) => str(v, 0, 64) && isRfc3339(v as string),
  queue: (v) => typeof v === 'string' && QUEUE.test(v),
  priority: (v) => int(v, -100, 100),
  idempotencyKey: (v) => str(v, 1, 200),
  labels,
};

// A field the schema no longer has is not checked here either (zod then refuses it); a field
// only the schema has sends the body to zod.
const shape = new Set(Object.keys(CreateTaskSchema.shape));
const KNOWN = new Map(Object.entries(FIELDS).filter(([k]) => shape.has(k)));

/** The body as a CreateTaskInput when it is valid and uses only known fields; otherwise undefined (ask zod). */
export function fastTask(v: unknown): CreateTaskInput | undefined {
  if (!plain(v)) return undefined;
  let hasTarget = false;
  for (const k in v) {
    const check = KNOWN.get(k);
    if (!check || !Object.hasOwn(v, k) || !check(v[k])) return undefined;
    if (k === 'targetUrl') hasTarget = true;
  }
  if (!hasTarget || (v.delay !== undefined && v.runAt !== undefined)) return undefined;
  return v as unknown as CreateTaskInput;
}

const batchShape = Object.keys(BatchSchema.shape);

/** The tasks of a valid batch body that uses only known fields; otherwise undefined (ask zod). */
export function fastBatch(v: unknown): CreateTaskInput[] | undefined {
  if (!plain(v) || batchShape.length !== 1 || batchShape[0] !== 'tasks') return undefined;
  for (const k in v) if (k !== 'tasks') return undefined;
  const tasks = v.tasks;
  if (!Array.isArray(tasks) || tasks.length < 1 || tasks.length > MAX_BATCH) return undefined;
  for (const t of tasks) if (fastTask(t) === undefined) return undefined;
  return tasks as CreateTaskInput[];
}
