import { describe, expect, it } from '@jest/globals';
import type { Connection, TokenSet } from '../connections/connection.js';
import {
  applicableMinValidity,
  nextRefreshAt,
  proactiveFreshness,
  proactiveMarginSeconds,
  satisfies,
} from './refresh-policy.js';

const t0 = new Date('2026-11-25T10:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
const settings = { refreshMarginSeconds: 600, idleRefreshSeconds: 86_400 };
const connection = (lifetime: number, overrides: Partial<Connection> = {}): Connection => ({
  id: 'c',
  tenantId: 't',
  integrationKey: 'i',
  provider: 'oauth2',
  status: 'active',
  account: { id: 'a' },
  scopes: [],
  refreshFailures: 0,
  createdAt: t0,
  updatedAt: t0,
  lastRefreshedAt: t0,
  expiresAt: at(lifetime),
  ...overrides,
});
const tokens = (expiresAt: Date) =>
  ({
    accessToken: 'a',
    tokenType: 'Bearer',
    expiresAt,
    scopes: [],
    extras: {},
  }) as unknown as TokenSet;

describe('refresh policy', () => {
  it('a token satisfies a caller while it stays valid for the asked minimum', () => {
    const c = connection(3600);
    expect(satisfies(c, tokens(at(3600)), { minValiditySeconds: 60 }, at(3539))).toBe(true);
    expect(satisfies(c, tokens(at(3600)), { minValiditySeconds: 60 }, at(3541))).toBe(false);
  });

  it('a forced refresh is satisfied only by a refresh after it was asked for', () => {
    const c = connection(3600);
    expect(
      satisfies(c, tokens(at(3600)), { minValiditySeconds: 0, refreshedAfter: at(10) }, at(20)),
    ).toBe(false);
    const refreshed = connection(3600, { lastRefreshedAt: at(15) });
    expect(
      satisfies(
        refreshed,
        tokens(at(3600)),
        { minValiditySeconds: 0, refreshedAfter: at(10) },
        at(20),
      ),
    ).toBe(true);
  });

  it('the proactive margin is the configured one, or half a short lifetime', () => {
    expect(proactiveMarginSeconds(connection(3600), settings)).toBe(600);
    expect(proactiveMarginSeconds(connection(300), settings)).toBe(150);
  });

  it('next refresh: before expiry, or after a day idle, whichever comes first', () => {
    expect(nextRefreshAt(connection(3600), settings)).toEqual(at(3000));
    expect(nextRefreshAt(connection(30 * 86_400), settings)).toEqual(at(86_400));
    expect(nextRefreshAt(connection(3600, { status: 'needs_reauth' }), settings)).toBeUndefined();
  });

  it('next refresh: not before a cooldown after a failing refresh ends', () => {
    const held = connection(3600, { refreshRetryAt: at(3300) });
    expect(nextRefreshAt(held, settings)).toEqual(at(3300));
    expect(nextRefreshAt(connection(3600, { refreshRetryAt: at(60) }), settings)).toEqual(at(3000));
  });

  it('a validity longer than the provider gives is clamped to what a fresh token has', () => {
    // 1-hour tokens: a fresh one satisfies at most 54 minutes for 6 minutes.
    expect(applicableMinValidity(7_200, at(3600), t0)).toBe(3_240);
    expect(applicableMinValidity(3_600, at(3600), t0)).toBe(3_240);
    expect(applicableMinValidity(3_000, at(3600), t0)).toBe(3_000);
    // 5-minute tokens: a minute of slack; 2-minute and 1-minute ones: a quarter.
    expect(applicableMinValidity(600, at(300), t0)).toBe(240);
    expect(applicableMinValidity(600, at(120), t0)).toBe(90);
    expect(applicableMinValidity(30, at(60), t0)).toBe(30);
    expect(applicableMinValidity(60, at(60), t0)).toBe(45);
    // Unknown lifetime: as asked.
    expect(applicableMinValidity(600, at(120), undefined)).toBe(600);
  });

  it('a proactive job asks for the margin and for a refresh within the idle window', () => {
    const freshness = proactiveFreshness(connection(3600), settings, at(3100));
    expect(freshness).toEqual({ minValiditySeconds: 600, refreshedAfter: at(3100 - 86_400) });
  });
});
