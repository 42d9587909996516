// Completion tokens (api.md §10): the secret an async task's target gets with each attempt to
// call complete, fail or heartbeat. An HMAC over the task id and the attempt number with a key
// kept in the store, so any node verifies a token without reading the database, and a token
// is useless for any other task or attempt. Tokens are never stored and never logged.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Tokens look like `aqc1.<attempt>.<43 base64url characters>`. */
const TOKEN = /^aqc1\.([1-9]\d{0,8})\.([A-Za-z0-9_-]{43})$/;

/** A fresh completion key (32 random bytes, base64), stored once in the database's settings. */
export function generateCompletionKey(): string {
  return randomBytes(32).toString('base64');
}

function mac(key: Buffer, taskId: string, attempt: number): Buffer {
  return createHmac('sha256', key).update(`aq-completion\0${taskId}\0${attempt}`).digest();
}

/** The token of attempt `attempt` (1-based) of task `taskId`. */
export function completionToken(key: Buffer, taskId: string, attempt: number): string {
  return `aqc1.${attempt}.${mac(key, taskId, attempt).toString('base64url')}`;
}

/** True when `token` has the shape of a completion token (says nothing about whether it is genuine). */
export function looksLikeCompletionToken(token: string): boolean {
  return TOKEN.test(token);
}

/**
 * The attempt a genuine token of `taskId` was made for, or undefined when the token is
 * malformed or was made for another task (or with another key). Constant-time comparison.
 */
export function verifyCompletionToken(key: Buffer, taskId: string, token: string): number | undefined {
  const m = TOKEN.exec(token);
  if (!m) return undefined;
  const attempt = Number(m[1]);
  const given = Buffer.from(m[2]!, 'base64url');
  const expected = mac(key, taskId, attempt);
  return given.length === expected.length && timingSafeEqual(given, expected) ? attempt : undefined;
}
