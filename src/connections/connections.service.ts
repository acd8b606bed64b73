import { Injectable } from '@nestjs/common';
import type { Caller } from '../auth/caller.js';
import { AuditLog } from '../audit/audit-log.js';
import { TokenFingerprint } from '../audit/token-fingerprint.js';
import { Clock } from '../infra/clock/clock.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import type { Connection, ConnectionStatus } from './connection.js';
import { assertCallerMayUse } from './connection-access.js';
import { ConnectionsRepository } from './connections.repository.js';
import { RevocationService } from '../revocation/revocation.service.js';

export interface ListConnectionsQuery {
  tenantId?: string;
  integration?: string;
  status?: ConnectionStatus;
  after?: { createdAt: Date; id: string };
  limit: number;
}

@Injectable()
export class ConnectionsService {
  constructor(
    private readonly repository: ConnectionsRepository,
    private readonly revocations: RevocationService,
    private readonly integrations: IntegrationRegistry,
    private readonly audit: AuditLog,
    private readonly fingerprint: TokenFingerprint,
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
   * Deletes the credentials at once and revokes the grant at the provider
   * (RFC 7009); when the provider is down, the revocation is retried in the
   * background. Disconnecting twice is a no-op.
   */
  async disconnect(caller: Caller, id: string): Promise<void> {
    const connection = assertCallerMayUse(caller, await this.repository.findById(id));
    if (connection.status === 'revoked') return;
    const integration = this.integrations.get(connection.integrationKey);
    const ending = await this.currentAccessToken(connection.id);
    const revocationId = await this.repository.revoke(connection, {
      providerRevocation: integration?.revocation !== 'none',
    });
    const origin = { serviceKeyId: caller.keyId, requestId: caller.requestId };
    this.audit.recordInBackground({
      at: this.clock.now(),
      action: 'connection.revoked',
      connectionId: connection.id,
      tenantId: connection.tenantId,
      ...origin,
      ...(ending !== undefined && { tokenFingerprint: this.fingerprint.of(ending) }),
    });
    if (revocationId) await this.revocations.deliverNowOrLater(revocationId, origin);
  }

  /**
   * The access token a disconnect ends, for its audit row. Read just before
   * the revoke, outside its transaction: a refresh landing in between makes
   * the row name the token before it (the revocation's row names the one
   * actually revoked). Credentials that cannot be opened still disconnect.
   */
  private async currentAccessToken(connectionId: string): Promise<string | undefined> {
    const found = await this.repository.findWithTokens(connectionId).catch(() => undefined);
    return found?.tokens?.accessToken;
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
