// JSON-line logger on stdout (api.md §6). Secrets never reach it: callers log ids, not payloads,
// and fields named like credentials (token, secret, authorization…) are masked as a safety net.
import { isCredentialName, maskFields } from './shared/mask.js';
import { isoTime } from './shared/time.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

export interface Logger {
  level: LogLevel;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  enabled(level: LogLevel): boolean;
}

/**
 * Lines written in one event-loop turn go out in one write: stdout to a pipe is synchronous on
 * Linux, and a busy server logs thousands of state changes a second. Flushed on exit too.
 */
function bufferedStdout(): (line: string) => void {
  let buf: string[] = [];
  const flush = () => {
    if (buf.length === 0) return;
    const out = buf.join('');
    buf = [];
    process.stdout.write(out);
  };
  process.once('exit', flush);
  return (line) => {
    if (buf.push(line) === 1) setImmediate(flush);
  };
}

/** A logger writing one JSON object per line to `write` (default: stdout, batched per tick). */
export function createLogger(level: LogLevel = 'info', write?: (line: string) => void): Logger {
  write ??= bufferedStdout();
  const out = write;
  const min = RANK[level];
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < min) return;
    const line = fields === undefined ? undefined : flatLine(lvl, msg, fields);
    if (line !== undefined) return out(line);
    const entry: Record<string, unknown> = { time: isoTime(Date.now()), level: lvl, msg, ...(fields && (maskFields(fields) as Record<string, unknown>)) };
    const err = entry.err;
    if (err instanceof Error) entry.err = { message: err.message, stack: err.stack, code: (err as { code?: unknown }).code };
    out(JSON.stringify(entry) + '\n');
  };
  return {
    level,
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    enabled: (lvl) => RANK[lvl] >= min,
  };
}

/**
 * The line of an entry whose fields are all strings, numbers, booleans or undefined (the
 * dispatcher's per-task lines), written directly: the same text JSON.stringify gives for the
 * entry object, without building it. Undefined for anything else (nested values, credential
 * names that need masking, a field named time, level, msg or err, an integer-like name that
 * JSON would order first), which takes the general path.
 */
function flatLine(lvl: LogLevel, msg: string, fields: Record<string, unknown>): string | undefined {
  let line = '{"time":"' + isoTime(Date.now()) + '","level":"' + lvl + '","msg":' + JSON.stringify(msg);
  for (const k in fields) {
    const v = fields[k];
    if (v === undefined) continue;
    const t = typeof v;
    if (t !== 'string' && t !== 'number' && t !== 'boolean') return undefined;
    const c = k.charCodeAt(0);
    if ((c >= 48 && c <= 57) || k === 'time' || k === 'level' || k === 'msg' || k === 'err' || isCredentialName(k)) return undefined;
    line += ',' + JSON.stringify(k) + ':' + JSON.stringify(v);
  }
  return line + '}\n';
}

/** A logger that drops everything (for tests and embedding). */
export const silentLogger: Logger = createLogger('silent', () => {});
