// The id of a request, answered as X-Request-Id (api.md §3). Its own module: the server answers
// GET /healthz before the app (app.ts) is loaded, with the same id rule.
import { randomUUID } from 'node:crypto';

const REQUEST_ID = /^[\w.-]{1,64}$/;

/** The request's id: its `X-Request-Id` when that is 1–64 of [A-Za-z0-9_.-], else a new UUID. */
export const requestId = (given: string | undefined): string => (given && REQUEST_ID.test(given) ? given : randomUUID());
