import { Injectable, Logger } from '@nestjs/common';
import { ProviderError } from '../common/errors/app-error.js';
import type { Connection, ConnectionWithTokens, TokenSet } from '../connections/connection.js';
import { ConnectionStore, CredentialStore } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';
import type { Integration } from '../integrations/integration.js';
import { isClientRejected, isDeadGrant } from '../oauth/oauth-error.js';
import { IntegrationHealth } from './integration-health.service.js';
import { NeedsReauth } from './needs-reauth.js';
import { RefreshPacing } from './refresh-pacing.js';
import { coolDownUntil } from './refresh-policy.js';
import { needsReauth, type RefreshOptions } from './refresh-request.js';

/**
 * What a failed refresh at the provider means: a dead grant ends the
 * connection (unless another replica rotated the token meanwhile); a
 * rejected client holds the integration; a failure retrying cannot fix cools
 * the connection down; a transient one is retried inline while the caller
 * can wait.
 */
@Injectable()
export class RefreshFailures {
  private readonly logger = new Logger('RefreshService');

  constructor(
    private readonly connections: ConnectionStore,
    private readonly credentials: CredentialStore,
    private readonly pacing: RefreshPacing,
    private readonly health: IntegrationHealth,
    private readonly reauth: NeedsReauth,
    private readonly clock: Clock,
  ) {}

  /**
   * Throws when the caller gets an error; returns tokens when the grant
   * turned out alive, or how long to wait before the next attempt.
   */
  async after(
    current: Required<ConnectionWithTokens>,
    integration: Integration,
    error: unknown,
    probe: boolean,
    attempt: number,
    options: RefreshOptions,
  ): Promise<{ tokens: TokenSet } | { waitMs: number }> {
    const { connection, tokens } = current;
    if (!(error instanceof ProviderError)) throw error;
    if (isClientRejected(error)) throw await this.health.rejected(integration, error, probe);
    // Any other answer from the provider says it accepted the client.
    if (!error.detail.transient) await this.health.accepted(integration);
    if (isDeadGrant(error))
      return { tokens: await this.afterDeadGrant(connection, tokens.refreshToken!) };
    if (!error.detail.transient) {
      // Neither dead nor passing (a malformed answer, invalid_scope…): asking
      // again at once would fail the same way, so the connection cools down.
      const retryAt = coolDownUntil(connection.refreshFailures + 1, this.clock.now());
      await this.credentials.recordRefreshFailure(connection.id, error.code, retryAt);
      throw error;
    }
    await this.credentials.recordRefreshFailure(connection.id, error.code);
    const waitMs = await this.pacing.afterFailure(connection.id, error, attempt, options.attempts);
    if (waitMs === undefined) throw error;
    this.logger.warn({
      connectionId: connection.id,
      errorCode: error.code,
      attempt,
      waitMs,
      msg: 'transient refresh failure; retrying',
    });
    return { waitMs };
  }

  /**
   * The grant ended without a refresh token to renew it: only the user can.
   */
  async noRefreshToken(connection: Connection): Promise<never> {
    await this.reauth.mark(connection, 'no_refresh_token');
    throw needsReauth();
  }

  /**
   * invalid_grant may only mean another replica rotated the refresh token a
   * moment ago. Only if the stored token is still the one the provider
   * refused is the grant dead.
   */
  private async afterDeadGrant(
    connection: Connection,
    refusedRefreshToken: string,
  ): Promise<TokenSet> {
    const latest = await this.connections.findWithTokens(connection.id);
    if (latest?.tokens?.refreshToken && latest.tokens.refreshToken !== refusedRefreshToken)
      return latest.tokens;
    await this.reauth.mark(connection, 'grant_rejected');
    throw needsReauth();
  }
}
