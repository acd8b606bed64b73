import { Injectable } from '@nestjs/common';
import { fullJitterDelayMs, sleep } from '../common/backoff.js';
import { ProviderError } from '../common/errors/app-error.js';
import { AppConfig } from '../config/app-config.js';
import { RetryLater } from '../infra/queue/job-workers.js';
import { resolveApiBase } from '../integrations/api-base.js';
import type { Integration } from '../integrations/integration.js';
import { RateBudgets } from '../rate-limit/rate-budgets.service.js';
import { TokenService, type WorkerTokens } from '../refresh/token.service.js';
import type {
  ParsedPage,
  ProviderRequest,
  ProviderResponse,
  SyncAdapter,
} from './adapters/sync-adapter.js';
import { ProviderApiClient, TokenRejectedError } from './provider-api.client.js';
import { RunFailure } from './run-outcome.js';
import type { Checkpoint } from './sync-run.js';

const PAGE_ATTEMPTS = 3;
const PAGE_BACKOFF_BASE_MS = 250;
const PAGE_BACKOFF_CAP_MS = 4_000;
/**
 * A page waits this long in the process for the connection's rate budget;
 * past it, the job goes back to the queue with the budget's delay (no
 * attempt spent) rather than hold a worker slot.
 */
const BUDGET_WAIT_MS = 3_000;

/**
 * Fetches and reads one page of a run: a 401 refreshes the token and
 * retries once; transient failures back off a few times (longer outages go
 * back to the queue, which retries from the checkpoint).
 */
@Injectable()
export class PageFetcher {
  constructor(
    private readonly config: AppConfig,
    private readonly tokens: TokenService,
    private readonly api: ProviderApiClient,
    private readonly budgets: RateBudgets,
  ) {}

  async fetch(
    connectionId: string,
    integration: Integration,
    adapter: SyncAdapter,
    checkpoint: Checkpoint,
    auth: WorkerTokens,
  ): Promise<{ page: ParsedPage; auth: WorkerTokens }> {
    let refreshed = false;
    for (let attempt = 0; ; attempt += 1) {
      try {
        // Resolved (and its host checked) before every request: a refresh may move the connection's API host.
        const base = resolveApiBase(
          integration.api!,
          auth.tokens.extras,
          this.config.allowInsecureLoopbackProviders,
        );
        const request = adapter.request(checkpoint, base);
        const response = await this.send(connectionId, integration, request, auth);
        return { page: adapter.parse(response, checkpoint, request), auth };
      } catch (error) {
        if (error instanceof TokenRejectedError) {
          if (refreshed)
            throw new RunFailure(
              'provider_unauthorized',
              'The provider rejected a freshly refreshed token',
            );
          refreshed = true;
          auth = await this.tokens.replaceRejected(connectionId, auth);
          continue;
        }
        const retryable =
          error instanceof ProviderError &&
          error.detail.transient &&
          error.detail.retryAfterSeconds === undefined;
        if (!retryable || attempt + 1 >= PAGE_ATTEMPTS) throw error;
        await sleep(fullJitterDelayMs(attempt, PAGE_BACKOFF_BASE_MS, PAGE_BACKOFF_CAP_MS));
      }
    }
  }

  /** One request inside the connection's rate budget, which learns from the answer. */
  private async send(
    connectionId: string,
    integration: Integration,
    request: ProviderRequest,
    auth: WorkerTokens,
  ): Promise<ProviderResponse> {
    const admission = await this.budgets.admit(connectionId, integration, {
      waitMs: BUDGET_WAIT_MS,
    });
    if (!admission.granted) throw new RetryLater(admission.retryAfterMs);
    let answer: { status: number; headers: Headers } | undefined;
    try {
      return await this.api.send(
        request,
        auth.tokens,
        integration.api!.authorizationScheme,
        (status, headers) => (answer = { status, headers }),
      );
    } finally {
      await admission.release();
      if (answer)
        await this.budgets.learn(connectionId, integration, answer.status, answer.headers);
    }
  }
}
