// Wire types of the development routes of `serve --dev` (api.md §15), shared by the server and the SDK.

/** Request headers kept as received; names lower-case. */
export type SinkHeaders = Record<string, string>;

/** One request the sink received, as `GET /v1/sink/<name>` lists it. */
export interface SinkRequest {
  /** Increasing per server (use as `?after=` to read only newer ones). */
  id: number;
  sink: string;
  receivedAt: string;
  method: string;
  /** Path after /_sink/<name> ("" for the sink itself), without the query. */
  path: string;
  query: Record<string, string>;
  headers: SinkHeaders;
  /** The body as text (UTF-8), cut at the sink's byte cap. */
  body: string;
  /** The body parsed when it is JSON, else null. */
  json: unknown;
  /** True when the body was longer than the cap and `body` holds only its start. */
  truncated: boolean;
  /** Standard Webhooks signature (api.md §5) checked with the server's secret; null when unsigned. */
  signatureVerified: boolean | null;
  /** What the sink answered. */
  answer: { status: number; delayMs: number };
}

/** `GET /v1/clock`. */
export interface ClockState {
  now: string;
  /** True with --clock virtual. */
  virtual: boolean;
}
