import { describe, expect, it, jest } from '@jest/globals';
import { ConflictError, ProviderError } from '../common/errors/app-error.js';
import type { ErrorCode } from '../common/errors/error-codes.js';
import type { Connection, ConnectionWithTokens, TokenSet } from '../connections/connection.js';
import type { ConnectionStore, CredentialStore } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';
import type { Integration } from '../integrations/integration.js';
import type { IntegrationHealth } from './integration-health.service.js';
import type { NeedsReauth } from './needs-reauth.js';
import type { RefreshPacing } from './refresh-pacing.js';
import { RefreshFailures } from './refresh-failures.js';
import { coolDownUntil } from './refresh-policy.js';

const NOW = new Date('2026-01-01T12:00:00Z');
const OPTIONS = { attempts: 3 };
const INTEGRATION = { key: 'crm' } as Integration;

class FixedClock extends Clock {
  override now(): Date {
    return NOW;
  }
}

const tokens = (refreshToken: string): TokenSet =>
  ({
    accessToken: `at-${refreshToken}`,
    refreshToken,
    scopes: [],
    extras: {},
  }) as unknown as TokenSet;

const providerError = (code: ErrorCode, transient: boolean) =>
  new ProviderError(code, code, { transient, providerStatus: transient ? 503 : 400 });

/** The decisions on fakes: what is stored now, the pacing's next wait, and what each collaborator was told. */
function setup(options: { storedRefreshToken?: string; pacingWaitMs?: number } = {}) {
  const connection = {
    id: 'c1',
    tenantId: 't1',
    status: 'active',
    refreshFailures: 2,
  } as Connection;
  const current = {
    connection,
    tokens: tokens('rt-1'),
    version: 7,
  } as Required<ConnectionWithTokens>;
  const recordRefreshFailure = jest.fn(async (..._args: unknown[]) => undefined);
  const mark = jest.fn(async (..._args: unknown[]) => undefined);
  const accepted = jest.fn(async (..._args: unknown[]) => undefined);
  const rejected = jest.fn(
    async (..._args: unknown[]) => new ConflictError('integration_client_rejected', 'held'),
  );
  const afterFailure = jest.fn(async () => options.pacingWaitMs);
  const failures = new RefreshFailures(
    {
      findWithTokens: async () => ({
        connection,
        tokens: tokens(options.storedRefreshToken ?? 'rt-1'),
        version: 8,
      }),
    } as unknown as ConnectionStore,
    { recordRefreshFailure } as unknown as CredentialStore,
    { afterFailure } as unknown as RefreshPacing,
    { accepted, rejected } as unknown as IntegrationHealth,
    { mark } as unknown as NeedsReauth,
    new FixedClock(),
  );
  const after = (error: unknown, probe = false, attempt = 0) =>
    failures.after(current, INTEGRATION, error, probe, attempt, OPTIONS);
  return {
    failures,
    connection,
    after,
    recordRefreshFailure,
    mark,
    accepted,
    rejected,
    afterFailure,
  };
}

describe('RefreshFailures', () => {
  it('a dead grant whose refresh token is still the stored one ends the connection', async () => {
    const { after, mark, accepted } = setup();
    await expect(after(providerError('grant_rejected', false))).rejects.toMatchObject({
      code: 'needs_reauth',
    });
    expect(mark).toHaveBeenCalledWith(expect.objectContaining({ id: 'c1' }), 'grant_rejected');
    expect(accepted).toHaveBeenCalledWith(INTEGRATION);
  });

  it('a dead grant after another replica rotated the token answers with the stored tokens', async () => {
    const { after, mark } = setup({ storedRefreshToken: 'rt-2' });
    await expect(after(providerError('grant_rejected', false))).resolves.toEqual({
      tokens: expect.objectContaining({ refreshToken: 'rt-2' }),
    });
    expect(mark).not.toHaveBeenCalled();
  });

  it('a rejected client holds the integration, not the connection', async () => {
    const { after, rejected, mark, recordRefreshFailure } = setup();
    const error = providerError('client_rejected', false);
    await expect(after(error, true)).rejects.toMatchObject({ code: 'integration_client_rejected' });
    expect(rejected).toHaveBeenCalledWith(INTEGRATION, error, true);
    expect(mark).not.toHaveBeenCalled();
    expect(recordRefreshFailure).not.toHaveBeenCalled();
  });

  it('a failure retrying cannot fix cools the connection down by its failure count', async () => {
    const { after, recordRefreshFailure, afterFailure } = setup();
    const error = providerError('provider_response_invalid', false);
    await expect(after(error)).rejects.toBe(error);
    expect(recordRefreshFailure).toHaveBeenCalledWith(
      'c1',
      'provider_response_invalid',
      coolDownUntil(3, NOW),
    );
    expect(afterFailure).not.toHaveBeenCalled();
  });

  it('a transient failure is recorded without a cooldown and retried after the pacing wait', async () => {
    const { after, recordRefreshFailure, accepted } = setup({ pacingWaitMs: 250 });
    await expect(after(providerError('provider_unavailable', true), false, 1)).resolves.toEqual({
      waitMs: 250,
    });
    expect(recordRefreshFailure).toHaveBeenCalledWith('c1', 'provider_unavailable');
    // A 5xx says nothing about the client: the integration's health is not told it passed.
    expect(accepted).not.toHaveBeenCalled();
  });

  it('a transient failure with no attempt left is the caller’s error', async () => {
    const { after } = setup({ pacingWaitMs: undefined });
    const error = providerError('provider_timeout', true);
    await expect(after(error)).rejects.toBe(error);
  });

  it('anything that is not the provider’s answer is rethrown untouched', async () => {
    const { after, recordRefreshFailure } = setup();
    const error = new Error('database down');
    await expect(after(error)).rejects.toBe(error);
    expect(recordRefreshFailure).not.toHaveBeenCalled();
  });

  it('no refresh token: only the user can renew the grant', async () => {
    const { failures, connection, mark } = setup();
    await expect(failures.noRefreshToken(connection)).rejects.toMatchObject({
      code: 'needs_reauth',
    });
    expect(mark).toHaveBeenCalledWith(connection, 'no_refresh_token');
  });
});
