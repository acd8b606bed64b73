import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { AuditLog } from '../audit/audit-log.js';
import { TokenFingerprint } from '../audit/token-fingerprint.js';
import { sleep } from '../common/backoff.js';
import { ConflictError, ProviderError, UnavailableError } from '../common/errors/app-error.js';
import { AppConfig } from '../config/app-config.js';
import type { Connection, ConnectionWithTokens, TokenSet } from '../connections/connection.js';
import { connectionNotFound } from '../connections/connection-access.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { CredentialStore } from '../connections/connection-store.js';
import { PendingCredentialsStore } from '../connections/pending-credentials.store.js';
import { Clock } from '../infra/clock/clock.js';
import { RedisLock } from '../infra/locks/redis-lock.js';
import { Metrics } from '../infra/metrics/metrics.js';
import type { Integration } from '../integrations/integration.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { lostScopes } from '../integrations/scopes.js';
import { isClientRejected, isDeadGrant } from '../oauth/oauth-error.js';
import type { TokenResult } from '../oauth/token-result.js';
import { IntegrationHealth } from './integration-health.service.js';
import { NeedsReauth } from './needs-reauth.js';
import { OAuthClient } from '../oauth/oauth.client.js';
import { RefreshPacing } from './refresh-pacing.js';
import {
  assertNotCoolingDown,
  coolDownUntil,
  type Freshness,
  satisfies,
} from './refresh-policy.js';
import { SingleFlight } from './single-flight.js';

function refreshTakingTooLong(): UnavailableError {
  return new UnavailableError(
    'refresh_in_progress',
    'A refresh of this connection is taking too long; retry shortly',
    { retryAfterSeconds: 1 },
  );
}

export function needsReauth(): ConflictError {
  return new ConflictError('needs_reauth', 'The grant is no longer valid; the user must reconnect');
}

export interface RefreshOptions {
  /**
   * Attempts at the provider for transient failures (5xx, 429, timeouts).
   * Callers waiting on HTTP get a few; queue jobs get one and let the queue
   * retry later.
   */
  attempts: number;
  /**
   * How long the caller can wait in all (HTTP callers): no attempt starts,
   * and no wait begins, that could end past it; the caller gets the last
   * failure (a 503 with Retry-After) instead. Jobs leave it unset.
   */
  waitMs?: number;
}

/** Who or what asked for a refresh: the audit row of the refresh says it. */
export interface RefreshOrigin {
  trigger:
    | 'read'
    | 'forced'
    | 'proactive'
    | 'worker'
    | 'worker_rejected'
    | 'rejected'
    | 'proxy'
    | 'proxy_rejected';
  serviceKeyId?: string;
  requestId?: string;
}

const POLL_MS = 100;

type Attempt = { tokens: TokenSet } | { fenced: true };

/**
 * Refreshes a connection's tokens with at most one refresh per connection
 * in flight anywhere:
 *  1. callers in this process share one promise (SingleFlight);
 *  2. replicas take a Redis lock with an owner token, and the others wait
 *     and re-read;
 *  3. the database decides: a fence on the credential version says who may
 *     send its refresh token, even if a lock expired under a slow owner, and
 *     the new tokens are stored with a compare-and-set on that version.
 */
@Injectable()
export class RefreshService {
  private readonly logger = new Logger(RefreshService.name);
  private readonly flights = new SingleFlight<TokenSet>();

  constructor(
    private readonly config: AppConfig,
    private readonly connections: ConnectionStore,
    private readonly credentials: CredentialStore,
    private readonly pending: PendingCredentialsStore,
    private readonly integrations: IntegrationRegistry,
    private readonly oauth: OAuthClient,
    private readonly lock: RedisLock,
    private readonly pacing: RefreshPacing,
    private readonly health: IntegrationHealth,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
    private readonly audit: AuditLog,
    private readonly fingerprint: TokenFingerprint,
    private readonly reauth: NeedsReauth,
  ) {}

  /**
   * Tokens meeting `freshness`, refreshing only if the stored ones do not.
   * Callers joining a refresh in flight share it: its audit row names the
   * origin of the one that started it.
   */
  refresh(
    connectionId: string,
    freshness: Freshness,
    options: RefreshOptions = { attempts: 3, waitMs: this.config.tokens.callerWaitMs },
    origin: RefreshOrigin = { trigger: 'worker' },
  ): Promise<TokenSet> {
    return this.flights.run(connectionId, () =>
      this.coordinate(connectionId, freshness, options, origin),
    );
  }

  private async coordinate(
    connectionId: string,
    freshness: Freshness,
    options: RefreshOptions,
    origin: RefreshOrigin,
  ): Promise<TokenSet> {
    const { lockTtlMs, fenceTtlMs } = this.config.tokens;
    const started = Date.now();
    const giveUpAt = started + Math.min(lockTtlMs + fenceTtlMs, options.waitMs ?? Infinity);
    const deadline = options.waitMs === undefined ? undefined : started + options.waitMs;
    for (;;) {
      const current = await this.read(connectionId);
      if (satisfies(current.connection, current.tokens, freshness, this.clock.now()))
        return current.tokens;
      const lease = await this.lock.tryAcquire(`refresh:${connectionId}`, lockTtlMs);
      if (lease) {
        try {
          const attempt = await this.refreshHoldingLock(
            connectionId,
            freshness,
            options,
            deadline,
            origin,
          );
          if ('tokens' in attempt) return attempt.tokens;
        } finally {
          await lease.release();
        }
      }
      if (Date.now() > giveUpAt) throw refreshTakingTooLong();
      // Someone else is refreshing: wait, then re-read what they stored.
      await sleep(POLL_MS / 2 + Math.random() * POLL_MS);
    }
  }

  private async refreshHoldingLock(
    connectionId: string,
    freshness: Freshness,
    options: RefreshOptions,
    deadline: number | undefined,
    origin: RefreshOrigin,
  ): Promise<Attempt> {
    const current = await this.read(connectionId);
    const { connection, tokens, version } = current;
    if (satisfies(connection, tokens, freshness, this.clock.now())) return { tokens };

    // A refresh whose write failed earlier: store its tokens, don't spend the rotated refresh token again.
    const unstored = await this.pending.find(connection, version);
    if (unstored) {
      // That refresh failed before its audit row: this is the row.
      const stored = await this.store(connection, version, unstored);
      this.auditRefreshed(connection, stored, origin, { recovered: true });
      return { tokens: stored };
    }

    if (!tokens.refreshToken) {
      // Without a refresh token an expired grant can only be renewed by the user.
      await this.reauth.mark(connection, 'no_refresh_token');
      throw needsReauth();
    }
    assertNotCoolingDown(connection, this.clock.now());
    const integration = this.integrationOf(connection);
    const refreshToken = tokens.refreshToken;
    const owner = randomUUID();
    // What is left of the caller's wait once an attempt's own timeout is set aside.
    const timeoutMs = this.config.providerHttp.timeoutMs;
    const spare = () => (deadline === undefined ? Infinity : deadline - Date.now() - timeoutMs);
    // Waiting on another replica's refresh used the caller's time: not enough
    // left for one attempt, say so instead of calling the provider.
    if (spare() < 0) throw refreshTakingTooLong();
    for (let attempt = 0; ; attempt += 1) {
      await this.pacing.waitTurn(connection.id, attempt, options.attempts, spare());
      const { probe } = await this.health.beforeCall(integration);
      const now = this.clock.now();
      const until = new Date(now.getTime() + this.config.tokens.fenceTtlMs);
      if (!(await this.credentials.claimFence(connection.id, version, owner, now, until))) {
        return { fenced: true };
      }
      let result: TokenResult;
      try {
        result = await this.oauth.refresh(integration, refreshToken, tokens);
      } catch (error) {
        await this.credentials.releaseFence(connection.id, owner).catch(() => undefined);
        const outcome = error instanceof ProviderError ? error.code : 'error';
        this.metrics.refreshes.inc({ integration: integration.key, outcome });
        const wait = await this.afterFailure(current, integration, error, probe, attempt, options);
        if ('tokens' in wait) return wait;
        // Another attempt could not end before the caller's wait does: say so now.
        if (wait.waitMs > spare()) throw error;
        await sleep(wait.waitMs);
        continue;
      }
      this.metrics.refreshes.inc({ integration: integration.key, outcome: 'refreshed' });
      // A provider may narrow a grant on refresh (an admin withdrew a
      // permission): the event goes out with the write that records it.
      const lost = lostScopes(integration, tokens.scopes, result.scopes);
      // Stored first: nothing may stand between the provider's answer and the
      // write, or a rotated refresh token would be spent and lost.
      const stored = await this.store(
        connection,
        version,
        {
          accessToken: result.accessToken,
          // RFC 6749 §6: a response without refresh_token keeps the old one valid.
          refreshToken: result.refreshToken ?? refreshToken,
          tokenType: result.tokenType,
          expiresAt: result.expiresAt,
          scopes: result.scopes,
          extras: { ...tokens.extras, ...result.extras },
        },
        lost,
      );
      if (lost.length)
        this.logger.warn({ connectionId: connection.id, lostScopes: lost, msg: 'scope drift' });
      this.auditRefreshed(connection, stored, origin, { attempt });
      await this.health.accepted(integration);
      return { tokens: stored };
    }
  }

  /** Written behind: the refresh is done and stored whatever the audit does. */
  private auditRefreshed(
    connection: Connection,
    stored: TokenSet,
    origin: RefreshOrigin,
    detail: { attempt: number } | { recovered: true },
  ): void {
    this.audit.recordInBackground({
      at: this.clock.now(),
      action: 'token.refreshed',
      connectionId: connection.id,
      tenantId: connection.tenantId,
      serviceKeyId: origin.serviceKeyId,
      requestId: origin.requestId,
      tokenFingerprint: this.fingerprint.of(stored.accessToken),
      detail: { trigger: origin.trigger, ...detail },
    });
  }

  /**
   * What a failed provider call means: a dead grant ends the connection
   * (unless another replica rotated the token meanwhile); a rejected client
   * holds the integration; a failure retrying cannot fix cools the
   * connection down; a transient one is retried inline while the caller can
   * wait. Throws when the caller gets an error, returns tokens when the
   * grant turned out alive, or how long to wait before the next attempt.
   */
  private async afterFailure(
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
   * Writes refreshed tokens (compare-and-set). If the write fails, the
   * tokens are kept aside for the next attempt and the caller gets a
   * retryable 503, never a token that is not stored.
   */
  private async store(
    connection: Connection,
    version: number,
    fresh: Parameters<CredentialStore['replaceTokens']>[2],
    lostScopes: readonly string[] = [],
  ): Promise<TokenSet> {
    let written: TokenSet | undefined;
    try {
      written = await this.credentials.replaceTokens(
        connection,
        version,
        fresh,
        this.clock.now(),
        lostScopes,
      );
    } catch (error) {
      await this.pending.save(connection, version, fresh);
      this.logger.error({
        err: error,
        connectionId: connection.id,
        msg: 'refreshed tokens could not be stored; kept for the next attempt',
      });
      throw new UnavailableError(
        'credentials_write_failed',
        'The refreshed credentials could not be stored; retry shortly',
        {
          cause: error,
          retryAfterSeconds: 1,
        },
      );
    }
    await this.pending.clear(connection.id);
    // Undefined: another writer got there first; its tokens are the stored truth.
    return written ?? (await this.read(connection.id)).tokens;
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

  private async read(connectionId: string): Promise<Required<ConnectionWithTokens>> {
    const current = await this.connections.findWithTokens(connectionId);
    if (!current) throw connectionNotFound();
    if (current.connection.status === 'needs_reauth') throw needsReauth();
    if (
      !current.tokens ||
      current.version === undefined ||
      current.connection.status !== 'active'
    ) {
      throw new ConflictError(
        'connection_not_active',
        `The connection is ${current.connection.status}`,
      );
    }
    return current as Required<ConnectionWithTokens>;
  }

  private integrationOf(connection: Connection): Integration {
    const integration = this.integrations.get(connection.integrationKey);
    if (!integration) {
      throw new ConflictError(
        'integration_not_configured',
        `Integration "${connection.integrationKey}" is not configured here`,
      );
    }
    return integration;
  }
}
