import { Injectable, Logger } from '@nestjs/common';
import { sleep } from '../common/backoff.js';
import { RateLimitedError } from '../common/errors/app-error.js';
import { ThrottledLog } from '../common/logging/throttled-log.js';
import { AppConfig } from '../config/app-config.js';
import { Clock } from '../infra/clock/clock.js';
import { Metrics } from '../infra/metrics/metrics.js';
import type { Integration } from '../integrations/integration.js';
import { learnedAllowance, slidingWindow } from './budget-policy.js';
import { BudgetStore } from './budget-store.js';
import { retryAfterSeconds } from './prefer-wait.js';
import { readRateLimitHeaders } from './rate-limit-headers.js';

export type BudgetDecision =
  { granted: true; waitedMs: number } | { granted: false; retryAfterMs: number };

/** Admitted: send, then `learn` from the answer and `release` (in a finally). */
export type Admission =
  | { granted: true; waitedMs: number; release: () => Promise<void> }
  | { granted: false; retryAfterMs: number; reason: 'rate' | 'concurrency' };

/** How often a caller willing to wait asks again for a concurrency slot. */
const SLOT_POLL_MS = 50;
/** A refused caller may try again this soon: slots free as requests end, long before a lease expires. */
const SLOT_RETRY_MS = 1_000;
/** A lease outlives any provider call (PROVIDER_HTTP timeout) with room for a proxied answer's body. */
const LEASE_EXTRA_MS = 60_000;

const NOTHING_TO_RELEASE = async (): Promise<void> => undefined;

/**
 * What the broker may send one connection's API, shared by syncs and the
 * proxy across processes: a sliding-window rate (the integration's
 * `rateLimit`, else the provider's known limits), lowered by what the
 * provider's own rate-limit headers say remains, and a cap on requests in
 * flight (`maxConcurrency`).
 *
 * Layers: Redis (one Lua script a decision, Redis's clock) is what makes
 * processes agree; the provider's 429 handling stays behind it. With Redis
 * unreachable the budget fails open, with a throttled log line: syncs then
 * meet the provider's own limit and its Retry-After as before, which is
 * better than stopping every sync and proxy call on a Redis outage.
 */
@Injectable()
export class RateBudgets {
  private readonly logger = new Logger(RateBudgets.name);
  private readonly outageLog = new ThrottledLog();

  constructor(
    private readonly store: BudgetStore,
    private readonly config: AppConfig,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {}

  /**
   * Before one request to the connection's API: a concurrency slot, then a
   * slot in the rate budget, waiting up to `waitMs` in all (0: answer at once).
   */
  async admit(
    connectionId: string,
    integration: Integration,
    options: { waitMs?: number } = {},
  ): Promise<Admission> {
    const waitMs = options.waitMs ?? 0;
    const started = Date.now();
    let release = NOTHING_TO_RELEASE;
    const max = integration.budget?.maxConcurrency;
    if (max) {
      const slot = await this.slot(connectionId, integration, max, waitMs);
      if (!slot.granted) return { ...slot, reason: 'concurrency' };
      release = slot.release;
    }
    const rate = await this.take(connectionId, integration, {
      waitMs: Math.max(0, waitMs - (Date.now() - started)),
    });
    if (!rate.granted) {
      await release();
      return { ...rate, reason: 'rate' };
    }
    return { granted: true, waitedMs: Date.now() - started, release };
  }

  /** One slot of the rate budget; a slot within `waitMs` is reserved and waited for here. */
  async take(
    connectionId: string,
    integration: Integration,
    options: { waitMs?: number } = {},
  ): Promise<BudgetDecision> {
    const rate = integration.budget?.rate;
    if (!rate) return { granted: true, waitedMs: 0 };
    let decision;
    try {
      decision = await this.store.take(connectionId, slidingWindow(rate), options.waitMs ?? 0);
    } catch (error) {
      this.unavailable(integration, error);
      return { granted: true, waitedMs: 0 };
    }
    if (!decision.granted) {
      this.count(integration, 'refused');
      return decision;
    }
    this.count(integration, decision.waitMs > 0 ? 'waited' : 'granted');
    if (decision.waitMs > 0) await sleep(decision.waitMs);
    return { granted: true, waitedMs: decision.waitMs };
  }

  /**
   * After every answer: what its rate-limit headers say remains lowers the
   * budget until the provider's window resets, so the broker slows down
   * before the provider answers 429; a 429's Retry-After stops every caller
   * of the connection.
   */
  async learn(
    connectionId: string,
    integration: Integration,
    status: number,
    headers: Headers | Readonly<Record<string, string | readonly string[] | undefined>>,
  ): Promise<void> {
    const budget = integration.budget;
    if (!budget?.rate) return;
    const observation = readRateLimitHeaders(
      budget.headers,
      status,
      headers instanceof Headers ? headers : headersOf(headers),
      this.clock.now(),
    );
    const allowance =
      observation &&
      learnedAllowance(observation, {
        limit: budget.rate.requests,
        windowMs: budget.rate.perSeconds * 1000,
      });
    if (!allowance) return;
    try {
      await this.store.learn(connectionId, allowance.left, allowance.forMs);
    } catch (error) {
      this.unavailable(integration, error);
    }
  }

  private async slot(
    connectionId: string,
    integration: Integration,
    max: number,
    waitMs: number,
  ): Promise<
    { granted: true; release: () => Promise<void> } | { granted: false; retryAfterMs: number }
  > {
    const deadline = Date.now() + waitMs;
    const leaseMs = this.config.providerHttp.timeoutMs + LEASE_EXTRA_MS;
    for (let waited = false; ; waited = true) {
      let got;
      try {
        got = await this.store.acquire(connectionId, max, leaseMs);
      } catch (error) {
        this.unavailable(integration, error);
        return { granted: true, release: NOTHING_TO_RELEASE };
      }
      if ('lease' in got) {
        if (waited) this.count(integration, 'concurrency_waited');
        const lease = got.lease;
        // A release that fails leaves the lease to expire.
        return {
          granted: true,
          release: () => this.store.release(connectionId, lease).catch(() => undefined),
        };
      }
      if (Date.now() + SLOT_POLL_MS > deadline) {
        this.count(integration, 'concurrency_refused');
        return { granted: false, retryAfterMs: Math.min(got.retryAfterMs, SLOT_RETRY_MS) };
      }
      await sleep(SLOT_POLL_MS);
    }
  }

  private count(integration: Integration, outcome: string): void {
    this.metrics.rateBudget.inc({ integration: integration.key, outcome });
  }

  private unavailable(integration: Integration, error: unknown): void {
    this.count(integration, 'redis_unavailable');
    this.outageLog.maybe((suppressed) =>
      this.logger.warn({
        errorCode: 'redis_unavailable',
        err: error,
        suppressed,
        msg: 'Redis is unreachable; rate budgets let requests through (provider 429s still wait)',
      }),
    );
  }
}

/** Node's header record (a proxied answer's) as fetch Headers. */
function headersOf(
  record: Readonly<Record<string, string | readonly string[] | undefined>>,
): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(record)) {
    for (const one of typeof value === 'string' ? [value] : (value ?? []))
      headers.append(name, one);
  }
  return headers;
}

/** A refused admission as the HTTP edge answers it: 429 with Retry-After in whole seconds, rounded up. */
export function budgetExhausted(retryAfterMs: number): RateLimitedError {
  return new RateLimitedError(
    'rate_budget_exhausted',
    'The connection’s rate budget is spent for now',
    retryAfterSeconds(retryAfterMs),
  );
}
