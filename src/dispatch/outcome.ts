// What one HTTP attempt produced, as data: deliver.ts makes these, decide.ts reads them.
import type { TaskError } from '../shared/types.js';

export type AttemptOutcome =
  | {
      kind: 'response';
      status: number;
      /** The response carried `AQ-No-Retry: true` (api.md §5), or was a 489 with `Upstash-NonRetryable-Error: true` (§14). */
      noRetry: boolean;
      /** The raw `Retry-After` header, if any. */
      retryAfter?: string;
      /** The 2xx body as JSON text (parsed JSON stays as sent; anything else becomes a JSON string), or null when empty. */
      resultJson: string | null;
      /** The start of a non-2xx body, for the error message. */
      errorBody?: string;
      /** With `keepRaw`: the response headers and body bytes as received (up to the body cap). */
      raw?: { headers: Record<string, string[]>; body: Buffer };
      durationMs: number;
    }
  | { kind: 'error'; error: TaskError; durationMs: number };
