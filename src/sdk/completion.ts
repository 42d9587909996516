// For a target's code (api.md §10): the completion details AsyncQueue sends with each dispatch
// of an async task, read from the request headers.

/** Where and with what a target ends the attempt it answered 202 to. */
export interface Completion {
  taskId: string;
  /** The attempt (1-based) the token belongs to. */
  attempt: number;
  /** `AQ-Completion-Url`: `<public url>/v1/tasks/<id>/complete`. */
  url: string;
  /** `AQ-Completion-Token`: the bearer token for complete, fail and heartbeat of this attempt only. */
  token: string;
  /** The server's base URL as the target reaches it (the completion URL without `/v1/tasks/<id>/complete`), for `new AsyncQueue({ url })`. */
  baseUrl: string;
}

import { header } from '../shared/signing.js';

type HeaderBag = Headers | Record<string, string | string[] | undefined>;

/**
 * The completion details of a dispatch request (a `Headers` object or Node's `req.headers`), or
 * null when the request carries none (a task without `async`).
 *
 * ```ts
 * const c = completionFromHeaders(req.headers);
 * res.status(202).end();
 * const aq = new AsyncQueue({ url: c.baseUrl });
 * await aq.tasks.complete(c.taskId, { reportUrl }, { token: c.token });
 * ```
 */
export function completionFromHeaders(headers: HeaderBag): Completion | null {
  const url = header(headers, 'aq-completion-url');
  const token = header(headers, 'aq-completion-token');
  const taskId = header(headers, 'aq-task-id');
  const attempt = Number(header(headers, 'aq-attempt'));
  if (!url || !token || !taskId || !Number.isInteger(attempt) || attempt < 1) return null;
  const suffix = `/v1/tasks/${encodeURIComponent(taskId)}/complete`;
  const baseUrl = url.endsWith(suffix) ? url.slice(0, -suffix.length) : new URL(url).origin;
  return { taskId, attempt, url, token, baseUrl };
}
