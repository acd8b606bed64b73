import { Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.js';
import type { Caller } from '../auth/caller.js';
import { ConflictError, NotFoundError } from '../common/errors/app-error.js';
import type { Connection, TokenSet } from '../connections/connection.js';
import { assertCallerMayUse } from '../connections/connection-access.js';
import { ConnectionsRepository } from '../connections/connections.repository.js';
import { Clock } from '../infra/clock/clock.js';
import { needsReauth, RefreshService } from './refresh.service.js';

export interface IssuedToken {
  connection: Connection;
  tokens: TokenSet;
  refreshed: boolean;
}

/**
 * The token hot path: one database read when the stored token is fresh
 * enough, plus the audit row. Refreshing happens only when it is not.
 */
@Injectable()
export class TokenService {
  constructor(
    private readonly connections: ConnectionsRepository,
    private readonly refresher: RefreshService,
    private readonly audit: AuditLog,
    private readonly clock: Clock,
  ) {}

  async issue(
    caller: Caller,
    connectionId: string,
    minValiditySeconds: number,
  ): Promise<IssuedToken> {
    const found = await this.connections.findWithTokens(connectionId);
    const connection = assertCallerMayUse(caller, found?.connection);
    assertUsable(connection);
    let tokens = found!.tokens;
    if (!tokens) throw new NotFoundError('connection_not_found', 'No such connection');
    let refreshed = false;
    if (tokens.expiresAt.getTime() - this.clock.now().getTime() < minValiditySeconds * 1000) {
      tokens = await this.refresher.refresh(connection.id, minValiditySeconds);
      refreshed = true;
    }
    this.audit.record({
      at: this.clock.now(),
      action: 'token.read',
      connectionId: connection.id,
      tenantId: connection.tenantId,
      serviceKeyId: caller.keyId,
      detail: { refreshed, minValiditySeconds },
    });
    return { connection, tokens, refreshed };
  }
}

function assertUsable(connection: Connection): void {
  switch (connection.status) {
    case 'active':
      return;
    case 'needs_reauth':
      throw needsReauth();
    case 'pending':
      throw new ConflictError('connection_pending', 'The connection awaits finalisation');
    case 'revoked':
      throw new NotFoundError('connection_revoked', 'The connection was disconnected');
  }
}
