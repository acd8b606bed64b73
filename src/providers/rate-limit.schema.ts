import { z } from 'zod';

/**
 * Rate budgets as data: what the broker may send one connection's API
 * (syncs and proxy together, across processes; enforced by src/rate-limit).
 */

/** Which rate-limit headers an API sends, and so how its answers are read (see rate-limit-headers.ts). */
export const RATE_LIMIT_HEADER_STYLES = [
  /** HubSpot `X-HubSpot-RateLimit-Max/-Remaining/-Interval-Milliseconds`. */
  'hubspot',
  /** Salesforce `Sforce-Limit-Info: api-usage=used/limit` (the org's daily allocation). */
  'salesforce',
  /** Pipedrive `x-ratelimit-limit/-remaining/-reset` (reset: seconds left in the window). */
  'pipedrive',
  /** `RateLimit-Limit/-Remaining/-Reset` (Microsoft Graph and SharePoint; reset in seconds). */
  'ratelimit',
  /** Dataverse (Dynamics 365) `x-ms-ratelimit-burst-remaining-xrm-requests`. */
  'dataverse',
] as const;

export type RateLimitHeaderStyle = (typeof RATE_LIMIT_HEADER_STYLES)[number];

/** `rateLimit` of an integration: at most `requests` in any `perSeconds` window, per connection. */
export const rateLimitSchema = z.strictObject({
  requests: z.number().int().min(1).max(1_000_000),
  perSeconds: z.number().int().min(1).max(86_400),
});

/** Requests in flight at once per connection. */
export const maxConcurrencySchema = z.number().int().min(1).max(1_000);

/** A built-in API's known limits: the default budget of its integrations. */
export const apiRateLimitSchema = rateLimitSchema.extend({
  maxConcurrency: maxConcurrencySchema.optional(),
  headers: z.enum(RATE_LIMIT_HEADER_STYLES).optional(),
});

export type RateLimit = z.infer<typeof rateLimitSchema>;
export type ApiRateLimit = z.infer<typeof apiRateLimitSchema>;
