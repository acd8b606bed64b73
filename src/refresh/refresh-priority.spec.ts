import { describe, expect, it } from '@jest/globals';
import { expiryPriority, IDLE_PRIORITY, MAX_PRIORITY } from './refresh-priority.js';

const at = (iso: string) => new Date(iso);

describe('proactive refresh priority', () => {
  const now = at('2026-12-05T04:30:00Z');

  it('puts sooner expiries first, whenever each job was queued', () => {
    const queuedEarlier = expiryPriority(at('2026-12-05T04:33:00Z'), now);
    const queuedLater = expiryPriority(
      at('2026-12-05T04:32:00Z'),
      new Date(now.getTime() + 60_000),
    );
    expect(queuedLater).toBeLessThan(queuedEarlier);
    expect(queuedEarlier - queuedLater).toBe(60);
  });

  it('stays within BullMQ bounds: expired tokens first, idle grants after every expiring one', () => {
    expect(expiryPriority(at('2026-11-01T00:00:00Z'), now)).toBe(1);
    const far = expiryPriority(at('2027-06-01T00:00:00Z'), now);
    expect(far).toBe(MAX_PRIORITY - 1);
    expect(IDLE_PRIORITY).toBeGreaterThan(far);
    for (let minutes = -10; minutes <= 60; minutes += 7) {
      const p = expiryPriority(new Date(now.getTime() + minutes * 60_000), now);
      expect(p).toBeGreaterThanOrEqual(1);
      expect(p).toBeLessThan(MAX_PRIORITY);
    }
  });
});
