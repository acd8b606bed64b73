import { Injectable } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.js';
import type { AuditAction } from '../audit/audit-entry.js';
import { TokenFingerprint } from '../audit/token-fingerprint.js';
import type { Caller } from '../auth/caller.js';
import { ConflictError, NotFoundError, RateLimitedError } from '../common/errors/app-error.js';
import { AppConfig } from '../config/app-config.js';
import type { Connection, TokenSet } from '../connections/connection.js';
import { connectionNotFound } from '../connections/connection-access.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';
import { mayUseAudited } from './audited-access.js';
import { RefreshCooldown } from './refresh-cooldown.js';
import { applicableMinValidity, workValiditySeconds } from './refresh-policy.js';
import { needsReauth } from './refresh-request.js';
import { RefreshService } from './refresh.service.js';
import { tokenAnswer, TokenAnswers } from './token-answers.js';

export interface WorkerTokens {
  tokens: TokenSet;
  /** When this token set was obtained (the connection's lastRefreshedAt). */
  obtainedAt: Date;
}

/** Tokens the broker uses on a caller's behalf, with the connection they belong to. */
export interface CallerTokens extends WorkerTokens {
  connection: Connection;
}

export interface IssuedToken {
  connection: Connection;
  refreshed: boolean;
  /** Set when the caller asked for more validity than the provider's tokens have. */
  minValidityClampedTo?: number;
  /** The answer to send: TokenAnswer's JSON text (see TokenAnswers). */
  answer: string;
}

/**
 * The token hot path: the cached connection, one decrypt of its sealed
 * answer (TokenAnswers) when the token is fresh enough, plus the audit row.
 * Refreshing happens only when it is not.
 */
@Injectable()
export class TokenService {
  constructor(
    private readonly connections: ConnectionStore,
    private readonly refresher: RefreshService,
    private readonly audit: AuditLog,
    private readonly fingerprint: TokenFingerprint,
    private readonly cooldown: RefreshCooldown,
    private readonly config: AppConfig,
    private readonly clock: Clock,
    private readonly answers: TokenAnswers,
  ) {}

  async issue(
    caller: Caller,
    connectionId: string,
    minValiditySeconds: number,
  ): Promise<IssuedToken> {
    // Cached (sealed) when it can be: the freshness check below uses the cached
    // expiry, and a refresh re-reads PostgreSQL (RefreshService).
    const found = await this.connections.findSealedCached(connectionId);
    const connection = this.mayUse(caller, connectionId, found?.connection, 'token.read');
    assertUsable(connection);
    const credential = found!.credential;
    if (!credential) throw connectionNotFound();
    // A credential read before has its answer sealed (TokenAnswers); a new one is opened here, once.
    const memo = this.answers.of(credential);
    let opened: TokenSet | undefined;
    let known: { expiresAt: Date; fingerprint: string } | undefined = memo;
    if (!known) {
      opened = this.connections.open(found!).tokens!;
      const fingerprint = this.fingerprint.of(opened.accessToken);
      // Remembered only while reads are cached: otherwise each read brings a new credential object.
      known = this.connections.cachesReads()
        ? this.answers.remember(credential, opened, fingerprint)
        : { expiresAt: opened.expiresAt, fingerprint };
    }
    const applied = applicableMinValidity(
      minValiditySeconds,
      known.expiresAt,
      connection.lastRefreshedAt,
    );
    const clampedTo = applied < minValiditySeconds ? applied : undefined;
    let now = this.clock.now();
    let refreshed: TokenSet | undefined;
    if (known.expiresAt.getTime() - now.getTime() < applied * 1000) {
      refreshed = await this.refresher.refresh(
        connection.id,
        { minValiditySeconds: applied },
        undefined,
        { trigger: 'read', serviceKeyId: caller.keyId, requestId: caller.requestId },
      );
      now = this.clock.now();
    }
    // Fails closed (AUDIT_MODE=strict): the token is returned only once its row is committed.
    await this.audit.record({
      at: now,
      action: 'token.read',
      connectionId: connection.id,
      tenantId: connection.tenantId,
      serviceKeyId: caller.keyId,
      requestId: caller.requestId,
      tokenFingerprint: refreshed ? this.fingerprint.of(refreshed.accessToken) : known.fingerprint,
      detail: {
        refreshed: refreshed !== undefined,
        minValiditySeconds,
        ...(clampedTo !== undefined && { clampedTo }),
      },
    });
    const tokens = refreshed ?? opened;
    return {
      connection,
      refreshed: refreshed !== undefined,
      minValidityClampedTo: clampedTo,
      // Without tokens in hand, the answer is the memo's (the credential was read before).
      answer: tokens
        ? JSON.stringify(tokenAnswer(tokens, clampedTo))
        : this.answers.open(memo!, clampedTo),
    };
  }

  /**
   * Tokens for background work (syncs): no caller to authorise, and no
   * audit row per page. `obtainedAt` identifies this token set for
   * `replaceRejected`.
   */
  async forWorker(connectionId: string): Promise<WorkerTokens> {
    const found = await this.connections.findWithTokens(connectionId);
    if (!found?.tokens) throw connectionNotFound();
    assertUsable(found.connection);
    let tokens = found.tokens;
    let obtainedAt = found.connection.lastRefreshedAt ?? new Date(0);
    const minValiditySeconds = workValiditySeconds(tokens.expiresAt, obtainedAt);
    if (tokens.expiresAt.getTime() - this.clock.now().getTime() < minValiditySeconds * 1000) {
      tokens = await this.refresher.refresh(
        connectionId,
        { minValiditySeconds },
        { attempts: 3 },
        { trigger: 'worker' },
      );
      obtainedAt = this.clock.now();
    }
    return { tokens, obtainedAt };
  }

  /**
   * Tokens the broker uses on a caller's behalf (the API proxy): authorised
   * like a token read (a refusal audited), from the same cached read,
   * renewed like background work within an HTTP caller's wait. The token
   * never leaves the broker, so there is no `token.read` row: the proxy
   * audits the call it made.
   */
  async forCaller(caller: Caller, connectionId: string): Promise<CallerTokens> {
    const found = await this.connections.findWithTokensCached(connectionId);
    const connection = this.mayUse(caller, connectionId, found?.connection, 'proxy.request');
    assertUsable(connection);
    let tokens = found!.tokens;
    if (!tokens) throw connectionNotFound();
    let obtainedAt = connection.lastRefreshedAt ?? new Date(0);
    const minValiditySeconds = workValiditySeconds(tokens.expiresAt, obtainedAt);
    if (tokens.expiresAt.getTime() - this.clock.now().getTime() < minValiditySeconds * 1000) {
      tokens = await this.refresher.refresh(connection.id, { minValiditySeconds }, undefined, {
        trigger: 'proxy',
        serviceKeyId: caller.keyId,
        requestId: caller.requestId,
      });
      obtainedAt = this.clock.now();
    }
    return { connection, tokens, obtainedAt };
  }

  /**
   * The provider refused a token before its expiry (revoked, rotated,
   * clock skew) during background work: get one refreshed after it was
   * obtained. Single-flight, so a burst of 401s from many pages makes one
   * refresh. Callers on HTTP (the proxy, `token/rejected`) report through
   * RejectedTokenService, whose cooldown bounds what they can cause.
   */
  async replaceRejected(connectionId: string, rejected: WorkerTokens): Promise<WorkerTokens> {
    const refreshedAfter = new Date(rejected.obtainedAt.getTime() + 1);
    const tokens = await this.refresher.refresh(
      connectionId,
      { minValiditySeconds: 0, refreshedAfter },
      { attempts: 3 },
      { trigger: 'worker_rejected' },
    );
    return { tokens, obtainedAt: this.clock.now() };
  }

  /**
   * Refreshes now, whatever the expiry (e.g. the provider rejected a token
   * early). Rate-limited per connection, across replicas.
   */
  async forceRefresh(caller: Caller, connectionId: string): Promise<Connection> {
    const connection = this.mayUse(
      caller,
      connectionId,
      await this.connections.findById(connectionId),
      'token.refresh_forced',
    );
    assertUsable(connection);
    const wait = await this.cooldown.start(
      connection.id,
      this.config.tokens.forcedRefreshCooldownSeconds,
    );
    if (wait !== undefined) {
      throw new RateLimitedError(
        'refresh_cooldown',
        `This connection was refreshed moments ago; retry in ${wait} s`,
        wait,
      );
    }
    const tokens = await this.refresher.refresh(
      connection.id,
      { minValiditySeconds: 0, refreshedAfter: this.clock.now() },
      undefined,
      { trigger: 'forced', serviceKeyId: caller.keyId, requestId: caller.requestId },
    );
    await this.audit.record({
      at: this.clock.now(),
      action: 'token.refresh_forced',
      connectionId: connection.id,
      tenantId: connection.tenantId,
      serviceKeyId: caller.keyId,
      requestId: caller.requestId,
      tokenFingerprint: this.fingerprint.of(tokens.accessToken),
    });
    return (await this.connections.findById(connection.id)) ?? connection;
  }

  /** The caller may use the connection; a refusal is audited (see mayUseAudited). */
  private mayUse<T extends Connection>(
    caller: Caller,
    connectionId: string,
    connection: T | undefined,
    attempted: AuditAction,
  ): T {
    return mayUseAudited(this.audit, this.clock, caller, connectionId, connection, attempted);
  }
}

export function assertUsable(connection: Connection): void {
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
