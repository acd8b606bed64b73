import { Injectable, Logger } from '@nestjs/common';
import type { Caller } from '../auth/caller.js';
import { AuditLog } from '../audit/audit-log.js';
import { Clock } from '../infra/clock/clock.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { OAuthClient } from '../oauth/oauth.client.js';
import type { Connection, ConnectionStatus, TokenSet } from './connection.js';
import { assertCallerMayUse } from './connection-access.js';
import { ConnectionsRepository } from './connections.repository.js';

export interface ListConnectionsQuery {
  tenantId?: string;
  integration?: string;
  status?: ConnectionStatus;
  after?: { createdAt: Date; id: string };
  limit: number;
}

@Injectable()
export class ConnectionsService {
  private readonly logger = new Logger(ConnectionsService.name);

  constructor(
    private readonly repository: ConnectionsRepository,
    private readonly integrations: IntegrationRegistry,
    private readonly oauth: OAuthClient,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async get(caller: Caller, id: string): Promise<Connection> {
    return assertCallerMayUse(caller, await this.repository.findById(id));
  }

  /** Lists what the caller may see, intersected with the query's filters. */
  async list(caller: Caller, query: ListConnectionsQuery): Promise<Connection[]> {
    const tenantIds = narrow(caller.tenants, query.tenantId);
    const integrationKeys = narrow(caller.integrations, query.integration);
    if (tenantIds?.length === 0 || integrationKeys?.length === 0) return [];
    return this.repository.list({
      tenantIds,
      integrationKeys,
      status: query.status,
      after: query.after,
      limit: query.limit,
    });
  }

  /**
   * Deletes the credentials at once, then revokes the grant at the provider
   * (RFC 7009) with the tokens still in hand. Disconnecting twice is a no-op.
   */
  async disconnect(caller: Caller, id: string): Promise<void> {
    const found = await this.repository.findWithTokens(id);
    const connection = assertCallerMayUse(caller, found?.connection);
    if (connection.status === 'revoked') return;
    await this.repository.revoke(connection.id);
    this.audit.record({
      at: this.clock.now(),
      action: 'connection.revoked',
      connectionId: connection.id,
      tenantId: connection.tenantId,
      serviceKeyId: caller.keyId,
    });
    if (found?.tokens) await this.revokeAtProvider(connection, found.tokens);
  }

  private async revokeAtProvider(connection: Connection, tokens: TokenSet): Promise<void> {
    const integration = this.integrations.get(connection.integrationKey);
    if (!integration) return;
    // Revoking the refresh token ends the whole grant at most providers
    // (RFC 7009 §2.1); the access token is the fallback when there is none.
    const [token, hint] = tokens.refreshToken
      ? ([tokens.refreshToken, 'refresh_token'] as const)
      : ([tokens.accessToken, 'access_token'] as const);
    try {
      await this.oauth.revoke(integration, token, hint);
    } catch (error) {
      this.logger.warn({
        err: error,
        connectionId: connection.id,
        msg: 'revocation at the provider failed',
      });
    }
  }
}

/** The caller's grant list narrowed by an optional filter; undefined means "all". */
function narrow(
  granted: readonly string[],
  wanted: string | undefined,
): readonly string[] | undefined {
  if (wanted === undefined) return granted.length ? granted : undefined;
  return granted.length === 0 || granted.includes(wanted) ? [wanted] : [];
}
