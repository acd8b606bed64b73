import { Injectable, Logger } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.js';
import { ConflictError, NotFoundError } from '../common/errors/app-error.js';
import type { Connection, Tokens, TokenSet } from '../connections/connection.js';
import { ConnectionsRepository } from '../connections/connections.repository.js';
import { Clock } from '../infra/clock/clock.js';
import type { Integration } from '../integrations/integration.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { isDeadGrant } from '../oauth/oauth-error.js';
import { OAuthClient } from '../oauth/oauth.client.js';
import { SingleFlight } from './single-flight.js';

export function needsReauth(): ConflictError {
  return new ConflictError('needs_reauth', 'The grant is no longer valid; the user must reconnect');
}

/**
 * Refreshes a connection's tokens, one refresh per connection at a time in
 * this process. Correctness does not rest on that: credentials are written
 * with a compare-and-set on their version, and a writer that lost the race
 * uses the winner's tokens.
 */
@Injectable()
export class RefreshService {
  private readonly logger = new Logger(RefreshService.name);
  private readonly flights = new SingleFlight<TokenSet>();

  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly integrations: IntegrationRegistry,
    private readonly oauth: OAuthClient,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  /**
   * Returns tokens valid for at least `minValiditySeconds`, refreshing only
   * if the stored ones are not (another caller may have just refreshed).
   */
  refresh(connectionId: string, minValiditySeconds: number): Promise<TokenSet> {
    return this.flights.run(connectionId, () => this.refreshNow(connectionId, minValiditySeconds));
  }

  private async refreshNow(connectionId: string, minValiditySeconds: number): Promise<TokenSet> {
    const current = await this.connections.findWithTokens(connectionId);
    if (!current?.tokens || current.version === undefined)
      throw new NotFoundError('connection_not_found', 'No such connection');
    const { connection, tokens, version } = current;
    if (connection.status === 'needs_reauth') throw needsReauth();
    if (this.validFor(tokens, minValiditySeconds)) return tokens;
    const integration = this.integrationOf(connection);
    if (!tokens.refreshToken) {
      // Without a refresh token an expired grant can only be renewed by the user.
      await this.markNeedsReauth(connection, 'no_refresh_token');
      throw needsReauth();
    }
    let fresh: Tokens;
    try {
      const result = await this.oauth.refresh(integration, tokens.refreshToken, tokens.scopes);
      fresh = {
        accessToken: result.accessToken,
        // RFC 6749 §6: a response without refresh_token keeps the old one valid.
        refreshToken: result.refreshToken ?? tokens.refreshToken,
        tokenType: result.tokenType,
        expiresAt: result.expiresAt,
        scopes: result.scopes,
        extras: { ...tokens.extras, ...result.extras },
      };
    } catch (error) {
      if (isDeadGrant(error)) return this.afterDeadGrant(connection, tokens.refreshToken);
      throw error;
    }
    const written = await this.connections.replaceTokens(
      connection,
      version,
      fresh,
      this.clock.now(),
    );
    // Undefined: someone else refreshed first, and their tokens are the stored truth.
    return written ?? this.reread(connectionId);
  }

  /**
   * invalid_grant may only mean another replica rotated the refresh token a
   * moment ago. Only if the stored token is still the one the provider
   * refused is the grant really dead.
   */
  private async afterDeadGrant(
    connection: Connection,
    refusedRefreshToken: string,
  ): Promise<TokenSet> {
    const latest = await this.connections.findWithTokens(connection.id);
    if (latest?.tokens?.refreshToken && latest.tokens.refreshToken !== refusedRefreshToken) {
      return latest.tokens;
    }
    await this.markNeedsReauth(connection, 'grant_rejected');
    throw needsReauth();
  }

  private async markNeedsReauth(connection: Connection, reason: string): Promise<void> {
    if (await this.connections.transition(connection.id, ['active'], 'needs_reauth')) {
      this.logger.warn({
        connectionId: connection.id,
        reason,
        msg: 'connection needs re-authorisation',
      });
      this.audit.record({
        at: this.clock.now(),
        action: 'connection.reauth_required',
        connectionId: connection.id,
        tenantId: connection.tenantId,
        detail: { reason },
      });
    }
  }

  private async reread(connectionId: string): Promise<TokenSet> {
    const latest = await this.connections.findWithTokens(connectionId);
    if (!latest?.tokens) throw new NotFoundError('connection_not_found', 'No such connection');
    return latest.tokens;
  }

  private validFor(tokens: TokenSet, seconds: number): boolean {
    return tokens.expiresAt.getTime() - this.clock.now().getTime() >= seconds * 1000;
  }

  private integrationOf(connection: Connection): Integration {
    const integration = this.integrations.get(connection.integrationKey);
    if (!integration) {
      throw new ConflictError(
        'integration_not_configured',
        `Integration "${connection.integrationKey}" is no longer configured`,
      );
    }
    return integration;
  }
}
