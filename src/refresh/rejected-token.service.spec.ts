import { describe, expect, it, jest } from '@jest/globals';
import type { AuditLog } from '../audit/audit-log.js';
import type { TokenFingerprint } from '../audit/token-fingerprint.js';
import type { Caller } from '../auth/caller.js';
import type { AppConfig } from '../config/app-config.js';
import type { Connection, TokenSet } from '../connections/connection.js';
import type { ConnectionStore } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';
import type { RefreshCooldown } from './refresh-cooldown.js';
import type { RefreshService } from './refresh.service.js';
import { RejectedTokenService } from './rejected-token.service.js';

const NOW = new Date('2026-01-01T12:00:00Z');
const ORIGIN = { trigger: 'proxy_rejected' as const, serviceKeyId: 'k', requestId: 'r' };

class FixedClock extends Clock {
  override now(): Date {
    return NOW;
  }
}

const tokenSet = (accessToken: string): TokenSet =>
  ({
    accessToken,
    tokenType: 'Bearer',
    expiresAt: new Date(NOW.getTime() + 3_600_000),
    scopes: [],
    extras: {},
  }) as unknown as TokenSet;

/**
 * The decisions on fakes: the stored token, a cooldown that is free, held
 * for the same token, or held for another, and a refresher that counts.
 */
function setup(stored: string, cooldown: 'free' | 'held') {
  const connection = {
    id: 'c1',
    tenantId: 't1',
    status: 'active',
    lastRefreshedAt: new Date(NOW.getTime() - 10_000),
  } as Connection;
  const refresh = jest.fn(async (..._args: unknown[]) => tokenSet('new'));
  const startOrJoin = jest.fn(async (..._args: unknown[]) =>
    cooldown === 'free' ? undefined : 17,
  );
  const service = new RejectedTokenService(
    {
      findWithTokens: async () => ({ connection, tokens: tokenSet(stored) }),
    } as unknown as ConnectionStore,
    { refresh } as unknown as RefreshService,
    {
      record: jest.fn(async () => undefined),
      recordInBackground: jest.fn(),
    } as unknown as AuditLog,
    { of: (token: string) => `fp:${token}` } as unknown as TokenFingerprint,
    { startOrJoin } as unknown as RefreshCooldown,
    {
      tokens: { forcedRefreshCooldownSeconds: 30, defaultMinValiditySeconds: 60 },
    } as unknown as AppConfig,
    new FixedClock(),
  );
  return { service, refresh, startOrJoin };
}

describe('RejectedTokenService', () => {
  it('the proxy: a refused current token takes the cooldown for its fingerprint and is refreshed once after it', async () => {
    const { service, refresh, startOrJoin } = setup('old', 'free');
    const outcome = await service.replaceForProxy('c1', 'old', ORIGIN);
    expect(outcome).toMatchObject({ outcome: 'refreshed', tokens: { accessToken: 'new' } });
    expect(startOrJoin).toHaveBeenCalledWith('c1', 30, 'fp:old');
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(refresh.mock.calls[0]).toEqual([
      'c1',
      { minValiditySeconds: 0, refreshedAfter: new Date(NOW.getTime() - 10_000) },
      undefined,
      ORIGIN,
    ]);
  });

  it('the proxy: a token already replaced is answered with the stored one, no cooldown, no refresh', async () => {
    const { service, refresh, startOrJoin } = setup('newer', 'held');
    const outcome = await service.replaceForProxy('c1', 'old', ORIGIN);
    expect(outcome).toMatchObject({
      outcome: 'already_replaced',
      tokens: { accessToken: 'newer' },
    });
    expect(startOrJoin).not.toHaveBeenCalled();
    expect(refresh).not.toHaveBeenCalled();
  });

  it('the proxy: a fresh token refused inside another token’s cooldown is an outcome, not a refresh', async () => {
    const { service, refresh } = setup('fresh', 'held');
    expect(await service.replaceForProxy('c1', 'fresh', ORIGIN)).toEqual({
      outcome: 'cooling_down',
      retryAfterSeconds: 17,
    });
    expect(refresh).not.toHaveBeenCalled();
  });

  it('token/rejected: the same cooldown is a 429 refresh_cooldown with its seconds', async () => {
    const { service, refresh } = setup('fresh', 'held');
    const caller = {
      keyId: 'k',
      requestId: 'r',
      tenants: [],
      integrations: [],
    } as unknown as Caller;
    await expect(service.replace(caller, 'c1', 'fresh')).rejects.toMatchObject({
      code: 'refresh_cooldown',
      retryAfterSeconds: 17,
    });
    expect(refresh).not.toHaveBeenCalled();
  });
});
