import type { ErrorKind } from './app-error.js';

/** The one place that decides which HTTP status each kind of failure gets. */
export const statusOfKind: Record<ErrorKind, number> = {
  validation: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  rate_limited: 429,
  provider: 502,
  gateway_timeout: 504,
  unavailable: 503,
};
