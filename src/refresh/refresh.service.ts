import { randomUUID } from 'node:crypto';
import { Injectable, Logger } from '@nestjs/common';
import { sleep } from '../common/backoff.js';
import { ConflictError, ProviderError, UnavailableError } from '../common/errors/app-error.js';
import { AppConfig } from '../config/app-config.js';
import type { Connection, TokenSet } from '../connections/connection.js';
import { ConnectionStore, CredentialStore } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';
import { RedisLock } from '../infra/locks/redis-lock.js';
import { Metrics } from '../infra/metrics/metrics.js';
import type { Integration } from '../integrations/integration.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { lostScopes } from '../integrations/scopes.js';
import { OAuthClient } from '../oauth/oauth.client.js';
import type { TokenResult } from '../oauth/token-result.js';
import { IntegrationHealth } from './integration-health.service.js';
import { RefreshFailures } from './refresh-failures.js';
import { RefreshPacing } from './refresh-pacing.js';
import { assertNotCoolingDown, type Freshness, satisfies } from './refresh-policy.js';
import { type RefreshOptions, type RefreshOrigin, readRefreshable } from './refresh-request.js';
import { RefreshedTokens } from './refreshed-tokens.js';
import { SingleFlight } from './single-flight.js';

function refreshTakingTooLong(): UnavailableError {
  return new UnavailableError(
    'refresh_in_progress',
    'A refresh of this connection is taking too long; retry shortly',
    { retryAfterSeconds: 1 },
  );
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
    private readonly integrations: IntegrationRegistry,
    private readonly oauth: OAuthClient,
    private readonly lock: RedisLock,
    private readonly pacing: RefreshPacing,
    private readonly health: IntegrationHealth,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
    private readonly written: RefreshedTokens,
    private readonly failures: RefreshFailures,
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
      const current = await readRefreshable(this.connections, connectionId);
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
    const current = await readRefreshable(this.connections, connectionId);
    const { connection, tokens, version } = current;
    if (satisfies(connection, tokens, freshness, this.clock.now())) return { tokens };

    // A refresh whose write failed earlier: store its tokens, don't spend the rotated refresh token again.
    const unstored = await this.written.unstored(connection, version);
    if (unstored) {
      // That refresh failed before its audit row: this is the row.
      const stored = await this.written.store(connection, version, unstored);
      this.written.audited(connection, stored, origin, { recovered: true });
      return { tokens: stored };
    }

    if (!tokens.refreshToken) return this.failures.noRefreshToken(connection);
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
        const wait = await this.failures.after(
          current,
          integration,
          error,
          probe,
          attempt,
          options,
        );
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
      const stored = await this.written.store(
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
      this.written.audited(connection, stored, origin, { attempt });
      await this.health.accepted(integration);
      return { tokens: stored };
    }
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
