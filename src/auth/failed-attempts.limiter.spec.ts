import { describe, expect, it } from '@jest/globals';
import { addressKey, FailedAttemptsLimiter } from './failed-attempts.limiter.js';

describe('addressKey', () => {
  it.each([
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:db8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:0DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
  ])('%s counts as %s', (address, key) => {
    expect(addressKey(address)).toBe(key);
  });
});

describe('FailedAttemptsLimiter', () => {
  const limits = { maxFailures: 3, windowMs: 10_000, maxAddresses: 2 };

  it('refuses past the budget until the window ends', () => {
    const limiter = new FailedAttemptsLimiter(limits);
    for (let t = 0; t < 3; t += 1) {
      expect(limiter.retryAfterSeconds('a', t)).toBeUndefined();
      limiter.recordFailure('a', t);
    }
    expect(limiter.retryAfterSeconds('a', 1_000)).toBe(9);
    expect(limiter.retryAfterSeconds('a', 9_999)).toBe(1);
    expect(limiter.retryAfterSeconds('a', 10_000)).toBeUndefined();
    limiter.recordFailure('a', 10_000); // a new window
    expect(limiter.retryAfterSeconds('a', 10_001)).toBeUndefined();
  });

  it('tracks a bounded number of addresses, dropping the oldest', () => {
    const limiter = new FailedAttemptsLimiter(limits);
    for (const address of ['a', 'b', 'c']) {
      for (let i = 0; i < 3; i += 1) limiter.recordFailure(address, 0);
    }
    expect(limiter.retryAfterSeconds('a', 1)).toBeUndefined();
    expect(limiter.retryAfterSeconds('b', 1)).toBe(10);
    expect(limiter.retryAfterSeconds('c', 1)).toBe(10);
  });
});
