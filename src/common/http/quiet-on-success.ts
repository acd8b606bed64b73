import { RouteConfig } from '@nestjs/platform-fastify';

const KEY = 'quietOnSuccess';

/**
 * A route whose successful requests get no request log line (they are still
 * counted in the metrics, with their latency). For probes and scrapes,
 * which would fill the log with nothing to read, and for token reads, which
 * the audit trail already records durably, with caller and request id: at
 * thousands a second a serialised, redacted line each is a measurable share
 * of the hot path. Failures are always logged.
 */
export const QuietOnSuccess = () => RouteConfig({ [KEY]: true });

export function isQuietOnSuccess(routeConfig: unknown): boolean {
  return (routeConfig as Record<string, unknown> | undefined)?.[KEY] === true;
}
