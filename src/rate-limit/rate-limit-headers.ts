import { parseRetryAfter } from '../common/http/retry-after.js';
import type { RateLimitHeaderStyle } from '../providers/rate-limit.schema.js';

/**
 * What one answer says of the provider's limit for this connection:
 * `remaining` requests in a window of `windowMs` holding at most `limit`,
 * ending in `resetMs` when the provider says so (else the window rolls).
 * A 429 says only how long to stay away.
 */
export type RateObservation =
  | { kind: 'allowance'; remaining: number; limit?: number; windowMs?: number; resetMs?: number }
  | { kind: 'stop'; retryAfterMs: number };

/** Reads an answer's rate-limit headers in the API's style; undefined when they say nothing. */
export function readRateLimitHeaders(
  style: RateLimitHeaderStyle | undefined,
  status: number,
  headers: Headers,
  now: Date,
): RateObservation | undefined {
  // Any API: a 429 with Retry-After (RFC 9110 §10.2.3) stops every caller of the connection, not just this one.
  if (status === 429) {
    const seconds = parseRetryAfter(headers.get('retry-after'), now);
    if (seconds !== undefined) return { kind: 'stop', retryAfterMs: seconds * 1000 };
  }
  switch (style) {
    case undefined:
      return undefined;
    case 'hubspot':
      return hubspot(headers);
    case 'salesforce':
      return salesforce(headers);
    case 'pipedrive':
      return pipedrive(headers);
    case 'ratelimit':
      return rateLimitFields(headers);
    case 'dataverse':
      return dataverse(headers);
  }
}

/**
 * HubSpot, https://developers.hubspot.com/docs/api/usage-details (and
 * https://developers.hubspot.com/changelog/rate-limit-headers-will-now-appear-for-oauth-authenticated-calls):
 * `X-HubSpot-RateLimit-Max` requests per `X-HubSpot-RateLimit-Interval-Milliseconds`
 * (a rolling window), `X-HubSpot-RateLimit-Remaining` left. OAuth calls carry
 * no daily headers; the `-Secondly` ones are left alone.
 */
function hubspot(headers: Headers): RateObservation | undefined {
  const remaining = count(headers.get('x-hubspot-ratelimit-remaining'));
  if (remaining === undefined) return undefined;
  return {
    kind: 'allowance',
    remaining,
    limit: count(headers.get('x-hubspot-ratelimit-max')),
    windowMs: count(headers.get('x-hubspot-ratelimit-interval-milliseconds')),
  };
}

/**
 * Salesforce, https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/headers_api_usage.htm:
 * `Sforce-Limit-Info: api-usage=10018/100000` is the org's daily API usage,
 * calls used / allocation (a rolling 24 hours); other fields (`api-bursts`,
 * `per-app-api-usage`) are ignored.
 */
function salesforce(headers: Headers): RateObservation | undefined {
  const match = /(?:^|[;,\s])api-usage=(\d+)\/(\d+)/.exec(headers.get('sforce-limit-info') ?? '');
  if (!match) return undefined;
  const used = Number(match[1]);
  const limit = Number(match[2]);
  if (limit <= 0) return undefined;
  return { kind: 'allowance', remaining: Math.max(0, limit - used), limit, windowMs: 86_400_000 };
}

/**
 * Pipedrive, https://pipedrive.readme.io/docs/core-api-concepts-rate-limiting:
 * `x-ratelimit-limit` per window, `x-ratelimit-remaining` left in it,
 * `x-ratelimit-reset` "the remaining window before the rate limit resets"
 * (seconds; their example answers 2 with a 2-second window).
 */
function pipedrive(headers: Headers): RateObservation | undefined {
  const remaining = count(headers.get('x-ratelimit-remaining'));
  if (remaining === undefined) return undefined;
  const reset = count(headers.get('x-ratelimit-reset'));
  return {
    kind: 'allowance',
    remaining,
    limit: count(headers.get('x-ratelimit-limit')),
    resetMs: reset === undefined ? undefined : reset * 1000,
  };
}

/**
 * Microsoft Graph (SharePoint and OneDrive resources),
 * https://learn.microsoft.com/en-us/sharepoint/dev/general-development/how-to-avoid-getting-throttled-or-blocked-in-sharepoint-online#ratelimit-headers---preview:
 * `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds until
 * the window refills), sent once an app has used most of its limit.
 */
function rateLimitFields(headers: Headers): RateObservation | undefined {
  const remaining = count(headers.get('ratelimit-remaining'));
  if (remaining === undefined) return undefined;
  const reset = count(headers.get('ratelimit-reset'));
  return {
    kind: 'allowance',
    remaining,
    limit: count(headers.get('ratelimit-limit')),
    resetMs: reset === undefined ? undefined : reset * 1000,
  };
}

/**
 * Dataverse (Dynamics 365), https://learn.microsoft.com/en-us/power-apps/developer/data-platform/api-limits:
 * `x-ms-ratelimit-burst-remaining-xrm-requests` is "the remaining number of
 * requests for this connection" in the 5-minute sliding window (6,000 per
 * user). Microsoft calls it a debugging aid, so it only ever lowers the budget.
 */
function dataverse(headers: Headers): RateObservation | undefined {
  const remaining = count(headers.get('x-ms-ratelimit-burst-remaining-xrm-requests'));
  if (remaining === undefined) return undefined;
  return { kind: 'allowance', remaining, limit: 6_000, windowMs: 300_000 };
}

/** A non-negative integer header (Dataverse writes thousands with commas: `1,200.00`). */
function count(value: string | null): number | undefined {
  if (value === null) return undefined;
  const cleaned = value.trim().replace(/,/g, '');
  if (!/^\d+(\.\d+)?$/.test(cleaned)) return undefined;
  return Math.floor(Number(cleaned));
}
