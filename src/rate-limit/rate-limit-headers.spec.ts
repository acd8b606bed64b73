import { describe, expect, it } from '@jest/globals';
import { readRateLimitHeaders } from './rate-limit-headers.js';

const now = new Date('2026-12-05T04:00:00Z');
const read = (
  style: Parameters<typeof readRateLimitHeaders>[0],
  headers: Record<string, string>,
  status = 200,
) => readRateLimitHeaders(style, status, new Headers(headers), now);

describe('readRateLimitHeaders', () => {
  it('HubSpot: Max per Interval-Milliseconds, Remaining (https://developers.hubspot.com/docs/api/usage-details)', () => {
    expect(
      read('hubspot', {
        'X-HubSpot-RateLimit-Interval-Milliseconds': '10000',
        'X-HubSpot-RateLimit-Max': '100',
        'X-HubSpot-RateLimit-Remaining': '97',
        // Deprecated per-second pair: not read.
        'X-HubSpot-RateLimit-Secondly': '10',
        'X-HubSpot-RateLimit-Secondly-Remaining': '9',
      }),
    ).toEqual({ kind: 'allowance', remaining: 97, limit: 100, windowMs: 10_000 });
  });

  it('Salesforce: api-usage used/limit of the daily allocation, other fields ignored (headers_api_usage.htm example)', () => {
    expect(
      read('salesforce', { 'Sforce-Limit-Info': 'api-usage=10018/100000; api-bursts=1/750' }),
    ).toEqual({
      kind: 'allowance',
      remaining: 89_982,
      limit: 100_000,
      windowMs: 86_400_000,
    });
    expect(
      read('salesforce', {
        'Sforce-Limit-Info':
          'api-usage=25/5000; per-app-api-usage=17/250(appName=sample-connected-app)',
      }),
    ).toMatchObject({ remaining: 4_975, limit: 5_000 });
    // Over the allocation (bursts): nothing left, never negative.
    expect(
      read('salesforce', { 'Sforce-Limit-Info': 'api-usage=110018/100000; api-bursts=1/750' }),
    ).toMatchObject({
      remaining: 0,
    });
  });

  it("Pipedrive: x-ratelimit-limit/-remaining, -reset in seconds (the rate-limiting page's Advanced-plan example)", () => {
    expect(
      read('pipedrive', {
        'x-ratelimit-limit': '40',
        'x-ratelimit-remaining': '39',
        'x-ratelimit-reset': '2',
        'x-daily-requests-left': '9999',
      }),
    ).toEqual({ kind: 'allowance', remaining: 39, limit: 40, resetMs: 2_000 });
  });

  it('Microsoft Graph / SharePoint: RateLimit-Limit/-Remaining/-Reset (how-to-avoid-getting-throttled… RateLimit headers)', () => {
    expect(
      read('ratelimit', {
        'RateLimit-Limit': '1200',
        'RateLimit-Remaining': '120',
        'RateLimit-Reset': '5',
      }),
    ).toEqual({ kind: 'allowance', remaining: 120, limit: 1200, resetMs: 5_000 });
  });

  it('Dataverse: x-ms-ratelimit-burst-remaining-xrm-requests in the 5-minute window (api-limits)', () => {
    expect(
      read('dataverse', {
        'x-ms-ratelimit-burst-remaining-xrm-requests': '5,832',
        'x-ms-ratelimit-time-remaining-xrm-requests': '1,187.50',
      }),
    ).toEqual({ kind: 'allowance', remaining: 5_832, limit: 6_000, windowMs: 300_000 });
  });

  it('a 429 with Retry-After stops the connection, in any style (seconds or an HTTP-date)', () => {
    expect(read(undefined, { 'Retry-After': '7' }, 429)).toEqual({
      kind: 'stop',
      retryAfterMs: 7_000,
    });
    expect(read('hubspot', { 'Retry-After': 'Sat, 05 Dec 2026 04:00:03 GMT' }, 429)).toEqual({
      kind: 'stop',
      retryAfterMs: 3_000,
    });
  });

  it('says nothing without its headers, or with unreadable ones', () => {
    expect(read(undefined, { 'x-ratelimit-remaining': '3' })).toBeUndefined();
    expect(read('hubspot', {})).toBeUndefined();
    expect(read('pipedrive', { 'x-ratelimit-remaining': 'lots' })).toBeUndefined();
    expect(read('salesforce', { 'Sforce-Limit-Info': 'api-usage=1/0' })).toBeUndefined();
    expect(read('ratelimit', { 'Retry-After': '5' }, 503)).toBeUndefined();
  });
});
