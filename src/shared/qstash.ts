// Wire types of the QStash-compatible API (api.md §14) that other parts of AsyncQueue see: what a
// task made by `/v2` remembers of its publish request, and URL groups. No runtime code.

/** Flow control given with `Upstash-Flow-Control-Key` / `-Value` (api.md §14). */
export interface QstashFlowControl {
  key: string;
  parallelism?: number;
  /** Requests per `period`. */
  rate?: number;
  /** Seconds (default 1). */
  period?: number;
}

/**
 * What a task created through `/v2` keeps of its QStash request (the task's `qstash` field;
 * null for every other task). The dispatcher sends such a task's payload as the raw body with
 * `contentType`, signs it with `Upstash-Signature`, and follows `retryDelay` and the callbacks.
 */
export interface QstashMeta {
  /** A published message, or the callback / failure callback made from a message's outcome. */
  kind: 'message' | 'callback' | 'failure_callback';
  /** The request's `Upstash-*` and `Content-Type` headers as the publisher sent them (names lower-case). */
  sent: Record<string, string>;
  /** The body's media type, passed through to the target; null when the publisher sent none. */
  contentType: string | null;
  /** The task's payload is the base64 of a body that is not UTF-8 text (else the text itself). */
  base64: boolean;
  /** `Upstash-Retry-Delay`: milliseconds as an expression over `retried`; null = QStash's default backoff. */
  retryDelay: string | null;
  callback: string | null;
  failureCallback: string | null;
  /** The URL group the message was published to, and the endpoint's name in it. */
  urlGroup: string | null;
  endpointName: string | null;
  flowControl: QstashFlowControl | null;
  /** `Upstash-Not-Before` / `Upstash-Delay` resolved: unix ms, or null. */
  notBefore: number | null;
  /** The publisher's address, as QStash reports it (`callerIp`). */
  callerIp: string | null;
  /** For callbacks: the message whose outcome this one reports. */
  sourceMessageId?: string;
}

/** An endpoint of a URL group (`/v2/topics`). */
export interface UrlGroupEndpoint {
  url: string;
  name: string | null;
}

/** A URL group: a publish to it makes one task per endpoint. Times in unix ms. */
export interface UrlGroup {
  name: string;
  createdAt: number;
  updatedAt: number;
  endpoints: UrlGroupEndpoint[];
}

/** QStash's documented default backoff, `min(1 day, e^(2.5·n))` seconds before retry n, as a §3 backoff (with its jitter). */
export const QSTASH_BACKOFF = Object.freeze({ initial: Math.exp(2.5), factor: Math.exp(2.5), max: 86_400 });
