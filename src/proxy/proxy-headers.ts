import type { IncomingHttpHeaders } from 'node:http';
import { ValidationError } from '../common/errors/app-error.js';
import type { RejectedTokenOutcome } from '../refresh/rejected-token.service.js';

/**
 * Caller headers that never reach the provider: the caller's own
 * credentials (its service key is in Authorization), cookies, what
 * describes the hop to the broker rather than the request (Host, the
 * forwarding headers, which would tell the provider about our network), and
 * the hop-by-hop headers of RFC 9110 §7.6.1, which the broker's own
 * connection to the provider sets for itself. Content-Length is set again
 * from the body actually sent.
 */
const DROPPED = new Set([
  'authorization',
  'cookie',
  'host',
  'forwarded',
  'via',
  'connection',
  'keep-alive',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'expect',
  // Ours, not the provider's.
  'x-request-id',
  // A method override would let a POST act as another method at the provider,
  // past the proxy's method rules and route scopes.
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
  // Client addresses are the broker's to state, not the caller's.
  'x-real-ip',
  'true-client-ip',
  'cf-connecting-ip',
  'client-ip',
]);

/**
 * Ours, on answers whose first request the provider answered 401: what the
 * broker did about the refused token (`refreshed`, `already-replaced`, or
 * `cooling-down`: no refresh, the provider's 401 passed back).
 */
export const TOKEN_REFRESH_HEADER = 'x-token-broker-refresh';

const TOKEN_REFRESH_VALUES: Record<RejectedTokenOutcome['outcome'], string> = {
  refreshed: 'refreshed',
  already_replaced: 'already-replaced',
  cooling_down: 'cooling-down',
};

/** The header's value for what came of reporting the refused token. */
export function tokenRefreshHeaderValue(outcome: RejectedTokenOutcome['outcome']): string {
  return TOKEN_REFRESH_VALUES[outcome];
}

const DROPPED_PREFIXES = ['proxy-', 'x-forwarded-'];

/**
 * Provider answer headers passed back: what describes the body and caching,
 * Retry-After and Location, and the rate-limit headers providers send
 * (X-RateLimit-*, RateLimit-*, Salesforce's Sforce-Limit-Info, HubSpot's
 * X-HubSpot-RateLimit-*). Everything else stays at the broker, Set-Cookie
 * first of all: a provider session must not attach to our callers.
 */
const PASSED_BACK = new Set([
  'content-type',
  'content-length',
  'content-encoding',
  'content-language',
  'content-disposition',
  'content-range',
  'accept-ranges',
  'etag',
  'last-modified',
  'cache-control',
  'expires',
  'vary',
  'retry-after',
  'location',
  'sforce-limit-info',
]);

const PASSED_BACK_PATTERN = /^(x-ratelimit-|ratelimit|x-rate-limit-|x-hubspot-ratelimit-)/;

/** Caller headers to forward, without anything that could split the provider request. */
export function forwardedRequestHeaders(incoming: IncomingHttpHeaders): Record<string, string> {
  const named = new Set(
    String(incoming.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (DROPPED.has(lower) || named.has(lower)) continue;
    if (DROPPED_PREFIXES.some((prefix) => lower.startsWith(prefix))) continue;
    const joined = Array.isArray(value) ? value.join(', ') : value;
    // Node's parser refuses most of these; whatever gets through stops here, not at the provider.
    if (/[\r\n\u0000]/.test(joined) || /[\r\n\u0000:]/.test(lower)) {
      throw new ValidationError(
        'proxy_header_invalid',
        `The header "${lower.replace(/[^a-z0-9-]/g, '?')}" has a character that cannot be forwarded`,
      );
    }
    out[lower] = joined;
  }
  return out;
}

/** The provider's answer headers the caller gets (names lower-case). */
export function passedBackHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (PASSED_BACK.has(lower) || PASSED_BACK_PATTERN.test(lower)) out[lower] = value;
  }
  return out;
}
