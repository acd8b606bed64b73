import { Injectable } from '@nestjs/common';
import { fullJitterDelayMs, sleep } from '../common/backoff.js';
import { ProviderError } from '../common/errors/app-error.js';
import { RedisService } from '../infra/redis/redis.service.js';

/** Inline retries stay within this budget; a longer Retry-After goes back to the caller. */
const INLINE_BUDGET_MS = 6_000;
const BACKOFF_BASE_MS = 200;
const BACKOFF_CAP_MS = 2_000;

/**
 * When a refresh may call the provider again. A provider's Retry-After for a
 * connection is shared by all replicas (in Redis): no replica sends that
 * connection's refresh before the provider said it may, however many
 * callers keep asking. Other transient failures back off exponentially with
 * full jitter.
 */
@Injectable()
export class RefreshPacing {
  constructor(private readonly redis: RedisService) {}

  /**
   * Before attempt `attempt` of `attempts`: waits out a Retry-After still
   * running, or (when longer than this caller can wait: the inline budget, or
   * `budgetMs` left of its own) answers 503 with the time left instead of
   * calling the provider early.
   */
  async waitTurn(
    connectionId: string,
    attempt: number,
    attempts: number,
    budgetMs = INLINE_BUDGET_MS,
  ): Promise<void> {
    const ttl = await this.redis.client.pttl(this.key(connectionId));
    const waitMs = ttl > 0 ? ttl : 0;
    if (waitMs === 0) return;
    if (attempt < attempts && waitMs <= Math.min(INLINE_BUDGET_MS, budgetMs)) {
      await sleep(waitMs);
      return;
    }
    throw new ProviderError(
      'provider_rate_limited',
      'The provider asked us to wait before refreshing again',
      {
        transient: true,
        retryAfterSeconds: Math.ceil(waitMs / 1000),
      },
    );
  }

  /**
   * After a failed attempt: records the provider's Retry-After and returns
   * how long to wait before the next attempt, or undefined to give up now.
   */
  async afterFailure(
    connectionId: string,
    error: ProviderError,
    attempt: number,
    attempts: number,
  ): Promise<number | undefined> {
    const retryAfter = error.detail.retryAfterSeconds;
    if (retryAfter)
      await this.redis.client.set(this.key(connectionId), '1', 'PX', retryAfter * 1000);
    if (!error.detail.transient || attempt + 1 >= attempts) return undefined;
    // A Retry-After is waited out by waitTurn before the next attempt.
    if (retryAfter !== undefined) return retryAfter * 1000 <= INLINE_BUDGET_MS ? 0 : undefined;
    return fullJitterDelayMs(attempt, BACKOFF_BASE_MS, BACKOFF_CAP_MS);
  }

  private key(connectionId: string): string {
    return this.redis.key('provider-backoff', connectionId);
  }
}
