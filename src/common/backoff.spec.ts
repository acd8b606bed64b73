import { describe, expect, it } from '@jest/globals';
import { fullJitterDelayMs } from './backoff.js';

describe('fullJitterDelayMs', () => {
  it('grows exponentially up to the cap, scaled by the random draw', () => {
    expect(fullJitterDelayMs(0, 100, 10_000, () => 0.999)).toBe(99);
    expect(fullJitterDelayMs(3, 100, 10_000, () => 0.999)).toBe(799);
    expect(fullJitterDelayMs(20, 100, 10_000, () => 0.999)).toBe(9_990);
  });

  it('can be anything from zero to the ceiling (full jitter)', () => {
    expect(fullJitterDelayMs(5, 100, 10_000, () => 0)).toBe(0);
    const draws = Array.from({ length: 1000 }, () => fullJitterDelayMs(4, 100, 10_000));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1_600);
    expect(new Set(draws).size).toBeGreaterThan(100);
  });
});
