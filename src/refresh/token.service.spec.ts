import { beforeAll, describe, expect, it, jest } from '@jest/globals';
import sodium from 'libsodium-wrappers';
import type { AuditLog } from '../audit/audit-log.js';
import type { TokenFingerprint } from '../audit/token-fingerprint.js';
import type { Caller } from '../auth/caller.js';
import type { AppConfig } from '../config/app-config.js';
import type { Connection, TokenSet } from '../connections/connection.js';
import type { ConnectionStore } from '../connections/connection-store.js';
import type { SealedConnection } from '../connections/sealed-connection.cache.js';
import { Clock } from '../infra/clock/clock.js';
import type { RefreshCooldown } from './refresh-cooldown.js';
import type { RefreshService } from './refresh.service.js';
import { tokenAnswer, TokenAnswers } from './token-answers.js';
import { TokenService } from './token.service.js';

const NOW = new Date('2026-01-01T12:00:00Z');
const HOUR = 3_600_000;

class FixedClock extends Clock {
  override now(): Date {
    return NOW;
  }
}

const caller: Caller = {
  keyId: 'k1',
  name: 'svc',
  tenants: [],
  integrations: [],
  actions: ['token'],
  requestId: 'r1',
};

const tokenSet = (accessToken: string, expiresInMs = HOUR): TokenSet =>
  ({
    accessToken,
    refreshToken: `rt-${accessToken}`,
    tokenType: 'Bearer',
    expiresAt: new Date(NOW.getTime() + expiresInMs),
    scopes: ['contacts.read'],
    extras: { instance_url: 'https://example.test' },
  }) as unknown as TokenSet;

/**
 * The token read on fakes, with the real TokenAnswers: `entry` is what the
 * connection cache holds (its credential object is what answers are kept
 * by); `stored` is what opening that credential gives.
 */
function setup(options: { status?: Connection['status']; cached?: boolean } = {}) {
  const connection = {
    id: 'c1',
    tenantId: 't1',
    integrationKey: 'crm',
    status: options.status ?? 'active',
    lastRefreshedAt: new Date(NOW.getTime() - 60_000),
  } as Connection;
  const state = {
    entry: { connection, credential: { keyId: 'k', ciphertext: new Uint8Array(1), version: 1 } },
    stored: tokenSet('at-1'),
  } as { entry: SealedConnection | undefined; stored: TokenSet };
  const opens = jest.fn((found: SealedConnection) => ({
    connection: found.connection,
    tokens: state.stored,
  }));
  const refresh = jest.fn(async (..._args: unknown[]) => tokenSet('at-refreshed'));
  const record = jest.fn(async (..._args: unknown[]) => undefined);
  const service = new TokenService(
    {
      findSealedCached: async () => state.entry,
      open: opens,
      cachesReads: () => options.cached ?? true,
    } as unknown as ConnectionStore,
    { refresh } as unknown as RefreshService,
    { record, recordInBackground: jest.fn() } as unknown as AuditLog,
    { of: (token: string) => `fp:${token}` } as unknown as TokenFingerprint,
    {} as RefreshCooldown,
    {} as AppConfig,
    new FixedClock(),
    new TokenAnswers(),
  );
  const fingerprints = () =>
    record.mock.calls.map((call) => (call[0] as { tokenFingerprint: string }).tokenFingerprint);
  return { service, state, opens, refresh, record, fingerprints };
}

describe('TokenService.issue', () => {
  beforeAll(async () => {
    await sodium.ready;
  });

  it('opens a cached credential once; later reads send its sealed answer, the same text', async () => {
    const { service, opens, refresh, fingerprints } = setup();
    const first = await service.issue(caller, 'c1', 60);
    const second = await service.issue(caller, 'c1', 60);
    expect(first.answer).toBe(JSON.stringify(tokenAnswer(tokenSet('at-1'))));
    expect(second.answer).toBe(first.answer);
    expect(JSON.parse(second.answer)).not.toHaveProperty('refreshToken');
    expect(opens).toHaveBeenCalledTimes(1);
    expect(refresh).not.toHaveBeenCalled();
    expect(fingerprints()).toEqual(['fp:at-1', 'fp:at-1']);
  });

  it('says when it clamped, on the first read and from the sealed answer alike', async () => {
    const { service } = setup();
    // A token obtained a minute ago with an hour left (61 minutes long): at most 90 % of it, 3,294 s.
    const first = await service.issue(caller, 'c1', 86_400);
    const second = await service.issue(caller, 'c1', 86_400);
    for (const issued of [first, second]) {
      expect(issued.minValidityClampedTo).toBe(3_294);
      expect(JSON.parse(issued.answer)).toEqual({
        ...tokenAnswer(tokenSet('at-1')),
        minValidityClampedTo: 3_294,
      });
    }
    expect((await service.issue(caller, 'c1', 60)).answer).toBe(
      JSON.stringify(tokenAnswer(tokenSet('at-1'))),
    );
  });

  it('a new credential object (after any write evicted the entry) is opened afresh', async () => {
    const { service, state, opens, fingerprints } = setup();
    await service.issue(caller, 'c1', 60);
    state.entry = { ...state.entry!, credential: { ...state.entry!.credential! } };
    state.stored = tokenSet('at-2');
    const issued = await service.issue(caller, 'c1', 60);
    expect(JSON.parse(issued.answer).accessToken).toBe('at-2');
    expect(opens).toHaveBeenCalledTimes(2);
    expect(fingerprints()).toEqual(['fp:at-1', 'fp:at-2']);
  });

  it('a token too close to expiry is refreshed, answered and fingerprinted as refreshed', async () => {
    const { service, state, refresh, fingerprints } = setup();
    state.stored = tokenSet('at-old', 30_000);
    const issued = await service.issue(caller, 'c1', 60);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(issued.refreshed).toBe(true);
    expect(issued.answer).toBe(JSON.stringify(tokenAnswer(tokenSet('at-refreshed'))));
    expect(fingerprints()).toEqual(['fp:at-refreshed']);
  });

  it('with reads not cached, nothing is kept: every read opens its credential', async () => {
    const { service, opens } = setup({ cached: false });
    const first = await service.issue(caller, 'c1', 60);
    const second = await service.issue(caller, 'c1', 60);
    expect(second.answer).toBe(first.answer);
    expect(opens).toHaveBeenCalledTimes(2);
  });

  it('a missing connection is 404 and one needing re-authorisation is refused, neither opened', async () => {
    const missing = setup();
    missing.state.entry = undefined;
    await expect(missing.service.issue(caller, 'c1', 60)).rejects.toMatchObject({
      code: 'connection_not_found',
    });
    const reauth = setup({ status: 'needs_reauth' });
    await expect(reauth.service.issue(caller, 'c1', 60)).rejects.toMatchObject({
      code: 'needs_reauth',
    });
    expect(missing.opens).not.toHaveBeenCalled();
    expect(reauth.opens).not.toHaveBeenCalled();
    expect(reauth.record).not.toHaveBeenCalled();
  });
});
