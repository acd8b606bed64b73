import { Injectable, Logger } from '@nestjs/common';
import type { AuditOrigin } from '../audit/audit-entry.js';
import { AuditLog } from '../audit/audit-log.js';
import { TokenFingerprint } from '../audit/token-fingerprint.js';
import { ConnectionStore } from '../connections/connection-store.js';
import type { Connection, Tokens } from '../connections/connection.js';
import { Clock } from '../infra/clock/clock.js';
import type { Integration } from '../integrations/integration.js';
import { OAuthClient } from '../oauth/oauth.client.js';
import { RevocationService } from '../revocation/revocation.service.js';

/** Whose grant it is, and (for the audit row) the key and request that brought it in. */
export interface GrantOwner extends AuditOrigin {
  tenantId: string;
  endUserId?: string;
  sessionId: string;
}

/**
 * What becomes of a validated grant: stored on its connection (created, or
 * updated in place on a reconnect, revoking the grant it replaces), or
 * refused and revoked at once. Shared by the callback and finalize.
 */
@Injectable()
export class ConnectGrants {
  private readonly logger = new Logger(ConnectGrants.name);

  constructor(
    private readonly connections: ConnectionStore,
    private readonly oauth: OAuthClient,
    private readonly revocations: RevocationService,
    private readonly audit: AuditLog,
    private readonly fingerprint: TokenFingerprint,
    private readonly clock: Clock,
  ) {}

  async store(
    integration: Integration,
    owner: GrantOwner,
    account: Connection['account'],
    tokens: Tokens,
  ): Promise<string> {
    const { connection, created, supersededRevocationId } = await this.connections.saveGrant({
      tenantId: owner.tenantId,
      integrationKey: integration.key,
      provider: integration.provider.name,
      account,
      endUserId: owner.endUserId,
      tokens,
      status: 'active',
      at: this.clock.now(),
      // A reconnect replaces a grant that may still be alive at the provider.
      revokeSuperseded: integration.revokeSupersededGrants && integration.revocation !== 'none',
    });
    const origin = { serviceKeyId: owner.serviceKeyId, requestId: owner.requestId };
    this.audit.recordInBackground({
      at: this.clock.now(),
      action: created ? 'connection.created' : 'connection.updated',
      connectionId: connection.id,
      tenantId: connection.tenantId,
      ...origin,
      tokenFingerprint: this.fingerprint.of(tokens.accessToken),
      detail: { sessionId: owner.sessionId },
    });
    // Through the pending revocations, as on disconnect: retried until the provider confirms.
    if (supersededRevocationId)
      await this.revocations.deliverNowOrLater(supersededRevocationId, origin);
    return connection.id;
  }

  /**
   * A grant we refuse at the callback (never stored) is revoked, best
   * effort, so it does not linger at the provider; except where revoking
   * would end every grant of the user and app (`revokeSupersededGrants:
   * false`), including a connection we keep.
   */
  async refuse(
    integration: Integration,
    tokens: Pick<Tokens, 'accessToken' | 'refreshToken' | 'extras'>,
  ): Promise<void> {
    if (!integration.revokeSupersededGrants) return;
    const [token, hint] = tokens.refreshToken
      ? ([tokens.refreshToken, 'refresh_token'] as const)
      : ([tokens.accessToken, 'access_token'] as const);
    await this.oauth.revoke(integration, token, hint, tokens.extras).catch((error: unknown) => {
      this.logger.warn({
        err: error,
        integration: integration.key,
        msg: 'could not revoke a refused grant',
      });
    });
  }
}
