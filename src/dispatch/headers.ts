// The headers of an outbound request (api.md §5): the task's own, then ours, then the
// Standard Webhooks signature. Ours win over a task header of the same name.
import { sign } from '../shared/signing.js';

export const USER_AGENT_PREFIX = 'AsyncQueue/';

export interface SignedRequest {
  id: string;
  body: string | Buffer;
  /** Unix seconds. */
  timestamp: number;
  key: Buffer;
  userAgent: string;
}

/** Task headers with lower-cased names, then content-type, user-agent, `extra` and the signature. */
export function outboundHeaders(taskHeaders: Record<string, string>, extra: Record<string, string>, r: SignedRequest): Record<string, string> {
  const h: Record<string, string> = {};
  for (const k in taskHeaders) h[k.toLowerCase()] = taskHeaders[k]!;
  h['content-type'] = 'application/json';
  h['user-agent'] = r.userAgent;
  for (const k in extra) h[k] = extra[k]!;
  h['webhook-id'] = r.id;
  h['webhook-timestamp'] = String(r.timestamp);
  h['webhook-signature'] = sign(r.key, r.id, r.timestamp, r.body);
  return h;
}
