import { Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.js';
import { TokenFingerprint } from '../audit/token-fingerprint.js';
import type { Caller } from '../auth/caller.js';
import { RateLimitedError } from '../common/errors/app-error.js';
import { constantTimeEqual } from '../common/random.js';
import { AppConfig } from '../config/app-config.js';
import type { Connection, TokenSet } from '../connections/connection.js';
import { connectionNotFound } from '../connections/connection-access.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';
import { mayUseAudited } from './audited-access.js';
import { RefreshCooldown } from './refresh-cooldown.js';
import { applicableMinValidity } from './refresh-policy.js';
import type { RefreshOrigin } from './refresh-request.js';
import { RefreshService } from './refresh.service.js';
import { tokenAnswer } from './token-answers.js';
import { assertUsable, type IssuedToken } from './token.service.js';

/** What a report of a refused token came to. */
export type RejectedTokenOutcome =
  /** A token obtained after the refused one: by a refresh this report made or joined… */
  | { outcome: 'refreshed'; tokens: TokenSet; obtainedAt: Date }
  /** …or the stored one, already another token (renewed only if about to expire). */
  | { outcome: 'already_replaced'; tokens: TokenSet; obtainedAt: Date }
  /** The refused token was the replacement of another refused one, inside the cooldown: no refresh. */
  | { outcome: 'cooling_down'; retryAfterSeconds: number };

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
 *     The API proxy reports the tokens its provider answers 401 to here
 *     too, so a provider refusing every token costs one refresh per
 *     cooldown, however many calls meet it.
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
    if (!found?.tokens) throw connectionNotFound();
    const settled = await this.settle(connection, found.tokens, rejectedToken, {
      trigger: 'rejected',
      serviceKeyId: caller.keyId,
      requestId: caller.requestId,
    });
    if (settled.outcome === 'cooling_down') {
      throw new RateLimitedError(
        'refresh_cooldown',
        `This connection was refreshed moments ago; retry in ${settled.retryAfterSeconds} s`,
        settled.retryAfterSeconds,
      );
    }
    const { tokens } = settled;
    // Fails closed (AUDIT_MODE=strict), as a token read: no token before its row is committed.
    await this.audit.record({
      at: this.clock.now(),
      action: 'token.rejected_replaced',
      connectionId: connection.id,
      tenantId: connection.tenantId,
      serviceKeyId: caller.keyId,
      requestId: caller.requestId,
      tokenFingerprint: this.fingerprint.of(tokens.accessToken),
      detail: {
        rejectedWasCurrent: settled.outcome === 'refreshed',
        refreshed: settled.outcome === 'refreshed',
      },
    });
    return {
      connection,
      refreshed: settled.outcome === 'refreshed',
      answer: JSON.stringify(tokenAnswer(tokens)),
    };
  }

  /**
   * The same report from the API proxy, whose provider answered 401 to the
   * token it sent: the caller was authorised when that token was read, and
   * no token leaves the broker (the proxy audits its call; the refresh is
   * audited with `origin`). A cooldown is an outcome here, not an error:
   * the proxy passes the provider's 401 back.
   */
  async replaceForProxy(
    connectionId: string,
    rejectedToken: string,
    origin: RefreshOrigin,
  ): Promise<RejectedTokenOutcome> {
    const found = await this.connections.findWithTokens(connectionId);
    if (!found?.tokens) throw connectionNotFound();
    assertUsable(found.connection);
    return this.settle(found.connection, found.tokens, rejectedToken, origin);
  }

  /** Steps 1 to 4 above, on the stored (PostgreSQL) token set. */
  private async settle(
    connection: Connection,
    stored: TokenSet,
    rejectedToken: string,
    origin: RefreshOrigin,
  ): Promise<RejectedTokenOutcome> {
    const rejected = this.fingerprint.of(rejectedToken);
    const storedAt = connection.lastRefreshedAt ?? new Date(0);
    if (!constantTimeEqual(rejected, this.fingerprint.of(stored.accessToken))) {
      // Already replaced: the current token, renewed only if it is about to expire.
      const minValidity = applicableMinValidity(
        this.config.tokens.defaultMinValiditySeconds,
        stored.expiresAt,
        connection.lastRefreshedAt,
      );
      if (stored.expiresAt.getTime() - this.clock.now().getTime() >= minValidity * 1000)
        return { outcome: 'already_replaced', tokens: stored, obtainedAt: storedAt };
      const tokens = await this.refresher.refresh(
        connection.id,
        { minValiditySeconds: minValidity },
        undefined,
        origin,
      );
      return { outcome: 'already_replaced', tokens, obtainedAt: this.clock.now() };
    }
    const wait = await this.cooldown.startOrJoin(
      connection.id,
      this.config.tokens.forcedRefreshCooldownSeconds,
      rejected,
    );
    // Another token's refresh (or a forced one) holds the cooldown: this token
    // was obtained inside it and is refused too, so a refresh now would be
    // refused the same way; one per cooldown is what a feedback loop gets.
    if (wait !== undefined) return { outcome: 'cooling_down', retryAfterSeconds: wait };
    // Strictly after: the rejected token's own lastRefreshedAt does not satisfy it.
    const tokens = await this.refresher.refresh(
      connection.id,
      { minValiditySeconds: 0, refreshedAfter: storedAt },
      undefined,
      origin,
    );
    return { outcome: 'refreshed', tokens, obtainedAt: this.clock.now() };
  }

  /** The caller may use the connection; a refusal is audited (see mayUseAudited). */
  private mayUse(caller: Caller, connectionId: string, connection: Connection | undefined) {
    return mayUseAudited(
      this.audit,
      this.clock,
      caller,
      connectionId,
      connection,
      'token.rejected_replaced',
    );
  }
}
