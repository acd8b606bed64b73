import { describe, expect, it } from '@jest/globals';
import { classifyProviderStatus, providerStatusError } from './provider-outcome.js';

describe('provider HTTP outcomes', () => {
  it.each([
    [200, 'ok'],
    [304, 'ok'],
    [400, 'refused'],
    [401, 'unauthorized'],
    [403, 'refused'],
    [404, 'refused'],
    [408, 'unavailable'],
    [425, 'unavailable'],
    [429, 'rate_limited'],
    [500, 'unavailable'],
    [503, 'unavailable'],
  ] as const)('%i is %s', (status, outcome) => {
    expect(classifyProviderStatus(status)).toBe(outcome);
  });

  it('makes one error shape: transient codes keep Retry-After, a refusal keeps the caller’s code', () => {
    const now = new Date('2026-11-26T00:00:00Z');
    const timeout = providerStatusError({
      status: 408,
      retryAfter: null,
      now,
      message: 'lookup',
      refusedCode: 'account_lookup_failed',
    });
    // An account lookup that timed out is worth retrying, not a permanent failure.
    expect([timeout.code, timeout.detail.transient]).toEqual(['provider_unavailable', true]);
    const limited = providerStatusError({ status: 429, retryAfter: '7', now, message: 'x' });
    expect([limited.code, limited.detail.retryAfterSeconds]).toEqual(['provider_rate_limited', 7]);
    const refused = providerStatusError({
      status: 403,
      retryAfter: null,
      now,
      message: 'lookup',
      refusedCode: 'account_lookup_failed',
    });
    expect([refused.code, refused.detail.transient]).toEqual(['account_lookup_failed', false]);
  });
});
