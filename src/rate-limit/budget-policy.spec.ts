import { describe, expect, it } from '@jest/globals';
import { learnedAllowance, MAX_LOG_ENTRIES, slidingWindow } from './budget-policy.js';

describe('slidingWindow', () => {
  it('keeps small budgets as given, each window a little longer for arrival jitter', () => {
    expect(slidingWindow({ requests: 10, perSeconds: 1 })).toEqual({ limit: 10, windowMs: 1_100 });
    expect(slidingWindow({ requests: 100, perSeconds: 10 })).toEqual({
      limit: 100,
      windowMs: 10_100,
    });
  });

  it('keeps a large budget as the same rate in a shorter window, with a limit dividing the original', () => {
    // Salesforce's 100,000 a day: 1,000 per 864 s, so any 24 hours holds at most 100 × 1,000.
    expect(slidingWindow({ requests: 100_000, perSeconds: 86_400 })).toEqual({
      limit: 1_000,
      windowMs: 864_100,
    });
    for (const requests of [1_001, 6_000, 7_919, 99_991]) {
      const { limit, windowMs } = slidingWindow({ requests, perSeconds: 300 });
      expect(limit).toBeLessThanOrEqual(MAX_LOG_ENTRIES);
      expect(requests % limit).toBe(0);
      expect(windowMs).toBeGreaterThanOrEqual((300_000 * limit) / requests);
    }
  });
});

describe('learnedAllowance', () => {
  const fallback = { limit: 100, windowMs: 10_000 };

  it('keeps a tenth of the limit back, until the window resets', () => {
    expect(
      learnedAllowance(
        { kind: 'allowance', remaining: 97, limit: 100, windowMs: 10_000 },
        fallback,
      ),
    ).toEqual({ left: 87, forMs: 10_000 });
    expect(
      learnedAllowance({ kind: 'allowance', remaining: 39, limit: 40, resetMs: 2_000 }, fallback),
    ).toEqual({ left: 35, forMs: 2_000 });
  });

  it('near the limit: stop until the window resets, or until enough of a rolling window aged out', () => {
    expect(
      learnedAllowance({ kind: 'allowance', remaining: 3, limit: 40, resetMs: 1_000 }, fallback),
    ).toEqual({
      left: 0,
      forMs: 1_000,
    });
    // HubSpot, 5 of 100 left in a rolling 10 s: 6 requests must age out, ~0.6 s.
    expect(
      learnedAllowance({ kind: 'allowance', remaining: 5, limit: 100, windowMs: 10_000 }, fallback),
    ).toEqual({ left: 0, forMs: 600 });
  });

  it("falls back to the budget's own limit and window; a 429 stops for its Retry-After", () => {
    expect(learnedAllowance({ kind: 'allowance', remaining: 50 }, fallback)).toEqual({
      left: 40,
      forMs: 10_000,
    });
    expect(learnedAllowance({ kind: 'stop', retryAfterMs: 4_000 }, fallback)).toEqual({
      left: 0,
      forMs: 4_000,
    });
    expect(learnedAllowance({ kind: 'stop', retryAfterMs: 0 }, fallback)).toBeUndefined();
  });
});
