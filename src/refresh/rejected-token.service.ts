import { Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.js';
import { TokenFingerprint } from '../audit/token-fingerprint.js';
import type { Caller } from '../auth/caller.js';
import { AppError, RateLimitedError } from '../common/errors/app-error.js';
import { constantTimeEqual } from '../common/random.js';
import { AppConfig } from '../config/app-config.js';
import type { Connection } from '../connections/connection.js';
import { assertCallerMayUse, connectionNotFound } from '../connections/connection-access.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';
import { RefreshCooldown } from './refresh-cooldown.js';
import { applicableMinValidity } from './refresh-policy.js';
import { RefreshService } from './refresh.service.js';
import { assertUsable, type IssuedToken } from './token.service.js';

/**
 * "The provider refused the token I got": a replacement, with one refresh
 * per rejected token however many callers and replicas report it.
 *  1. The rejected token is identified by its fingerprint (keyed HMAC,
 *     compared in constant time); it is never logged or stored.
 *  2. If the stored token is already another one, it is the replacement:
 *     no refresh (beyond the ordinary one of an expiring token).
 *  3. Otherwise the forced-refresh cooldown is taken for that token: every
 *     caller reporting the same token joins, any other refresh waits (a
 *     caller cannot refresh in a loop by rejecting each new token).
 *  4. The refresh is RefreshService's (single flight, Redis lock, database
 *     fence): it is satisfied by any token obtained after the rejected
 *     one, so the callers that lose the race read the winner's.
 */
@Injectable()
export class RejectedTokenService {
  constructor(
    private readonly connections: ConnectionStore,
    private readonly refresher: RefreshService,
    private readonly audit: AuditLog,
    private readonly fingerprint: TokenFingerprint,
    private readonly cooldown: RefreshCooldown,
    private readonly config: AppConfig,
    private readonly clock: Clock,
  ) {}

  async replace(caller: Caller, connectionId: string, rejectedToken: string): Promise<IssuedToken> {
    // PostgreSQL, not the cache: the comparison decides whether to refresh.
    const found = await this.connections.findWithTokens(connectionId);
    const connection = this.mayUse(caller, connectionId, found?.connection);
    assertUsable(connection);
    let tokens = found!.tokens;
    if (!tokens) throw connectionNotFound();
    const rejected = this.fingerprint.of(rejectedToken);
    const isCurrent = constantTimeEqual(rejected, this.fingerprint.of(tokens.accessToken));
    const origin = {
      trigger: 'rejected' as const,
      serviceKeyId: caller.keyId,
      requestId: caller.requestId,
    };
    let refreshed = false;
    if (isCurrent) {
      const wait = await this.cooldown.startOrJoin(
        connection.id,
        this.config.tokens.forcedRefreshCooldownSeconds,
        rejected,
      );
      if (wait !== undefined) {
        throw new RateLimitedError(
          'refresh_cooldown',
          `This connection was refreshed moments ago; retry in ${wait} s`,
          wait,
        );
      }
      // Strictly after: the rejected token's own lastRefreshedAt does not satisfy it.
      const refreshedAfter = connection.lastRefreshedAt ?? new Date(0);
      tokens = await this.refresher.refresh(
        connection.id,
        { minValiditySeconds: 0, refreshedAfter },
        undefined,
        origin,
      );
      refreshed = true;
    } else {
      // Already replaced: the current token, renewed only if it is about to expire.
      const minValidity = applicableMinValidity(
        this.config.tokens.defaultMinValiditySeconds,
        tokens.expiresAt,
        connection.lastRefreshedAt,
      );
      if (tokens.expiresAt.getTime() - this.clock.now().getTime() < minValidity * 1000) {
        tokens = await this.refresher.refresh(
          connection.id,
          { minValiditySeconds: minValidity },
          undefined,
          origin,
        );
      }
    }
    // Fails closed (AUDIT_MODE=strict), as a token read: no token before its row is committed.
    await this.audit.record({
      at: this.clock.now(),
      action: 'token.rejected_replaced',
      connectionId: connection.id,
      tenantId: connection.tenantId,
      serviceKeyId: caller.keyId,
      requestId: caller.requestId,
      tokenFingerprint: this.fingerprint.of(tokens.accessToken),
      detail: { rejectedWasCurrent: isCurrent, refreshed },
    });
    return { connection, tokens, refreshed };
  }

  /** assertCallerMayUse, with a refusal audited as a refused token read. */
  private mayUse(caller: Caller, connectionId: string, connection: Connection | undefined) {
    try {
      return assertCallerMayUse(caller, connection);
    } catch (error) {
      this.audit.recordInBackground({
        at: this.clock.now(),
        action: 'token.read_refused',
        connectionId,
        ...(connection && { tenantId: connection.tenantId }),
        serviceKeyId: caller.keyId,
        requestId: caller.requestId,
        detail: {
          attempted: 'token.rejected_replaced',
          code: error instanceof AppError ? error.code : 'unknown',
          ...(connection === undefined && { reason: 'no such connection' }),
        },
      });
      throw error;
    }
  }
}
