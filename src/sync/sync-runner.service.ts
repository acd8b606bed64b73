import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';
import { Metrics } from '../infra/metrics/metrics.js';
import { RetryLater } from '../infra/queue/job-workers.js';
import type { Integration } from '../integrations/integration.js';
import { IntegrationRegistry } from '../integrations/integration-registry.js';
import { missingModelScopes } from '../integrations/scopes.js';
import { workValiditySeconds } from '../refresh/refresh-policy.js';
import { TokenService, type WorkerTokens } from '../refresh/token.service.js';
import { adapterFor } from './adapters/adapter-for.js';
import {
  type ParsedPage,
  StaleCursorError,
  type SyncAdapter,
  SyncTokenExpiredError,
} from './adapters/sync-adapter.js';
import { PageFetcher } from './page-fetcher.js';
import { RunEndings } from './run-endings.js';
import { RecordsRepository } from './records.repository.js';
import type { Checkpoint, SyncRun } from './sync-run.js';
import { SyncRunsRepository } from './sync-runs.repository.js';
import {
  type RunContext,
  RunFailure,
  type RunOutcome,
  stopIf,
  watermarkOf,
} from './run-outcome.js';
import { RunGuard } from './run-guard.js';

export type { RunContext, RunOutcome } from './run-outcome.js';

type Fetched = { page: ParsedPage; auth: WorkerTokens };

/** Times one execution reads a feed again after its stored position expired. */
const MAX_FEED_RESTARTS = 3;

/**
 * Executes one sync run, page by page: fetch, then write the page's records
 * and the next checkpoint in one transaction (the next page is fetched
 * meanwhile). Resumes from the stored
 * checkpoint; survives token expiry (refresh and retry the page once on a
 * 401), rate limits (wait out Retry-After without spending an attempt) and
 * transient failures (backoff with full jitter, then let BullMQ retry).
 */
@Injectable()
export class SyncRunner {
  private readonly logger = new Logger(SyncRunner.name);

  constructor(
    private readonly config: AppConfig,
    private readonly runs: SyncRunsRepository,
    private readonly records: RecordsRepository,
    private readonly connections: ConnectionStore,
    private readonly integrations: IntegrationRegistry,
    private readonly tokens: TokenService,
    private readonly fetcher: PageFetcher,
    private readonly endings: RunEndings,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {}

  async execute(runId: string, context: RunContext): Promise<RunOutcome> {
    let run: SyncRun | undefined;
    try {
      run = await this.runs.markRunning(runId, this.clock.now());
    } catch (error) {
      throw this.endings.waitForDatabase(error) ?? error;
    }
    if (!run) return 'skipped';
    try {
      const { adapter, integration } = await this.prepare(run);
      const checkpoint = run.checkpoint ?? (await this.firstCheckpoint(run, adapter));
      await this.pages(run, integration, adapter, checkpoint, context);
      return 'succeeded';
    } catch (error) {
      return this.endings.onError(run, error, context);
    }
  }

  private async prepare(run: SyncRun): Promise<{ adapter: SyncAdapter; integration: Integration }> {
    const connection = await this.connections.findById(run.connectionId);
    if (connection?.status !== 'active') {
      throw new RunFailure(
        connection?.status === 'needs_reauth' ? 'needs_reauth' : 'connection_not_active',
        'The connection is not active',
      );
    }
    const integration = this.integrations.get(connection.integrationKey);
    const adapter = integration && adapterFor(integration, run.model);
    if (!adapter)
      throw new RunFailure(
        'model_not_configured',
        `Model "${run.model}" is not configured for this integration`,
      );
    // Before any token or provider call: the provider would refuse every page,
    // and no retry can grant a scope (the user must reconnect, asking for it).
    const missing = missingModelScopes(integration, connection.scopes, [run.model]);
    if (missing.length)
      throw new RunFailure(
        'insufficient_scope',
        `The connection was not granted ${missing.join(', ')}, which model "${run.model}" needs`,
      );
    return { adapter, integration };
  }

  private async firstCheckpoint(run: SyncRun, adapter: SyncAdapter): Promise<Checkpoint> {
    const { watermark } = await this.runs.state(run.connectionId, run.model);
    return adapter.start(run.full ? undefined : watermark);
  }

  private async pages(
    run: SyncRun,
    integration: Integration,
    adapter: SyncAdapter,
    start: Checkpoint,
    context: RunContext,
  ): Promise<void> {
    const model = integration.api!.models[run.model]!;
    const guard = new RunGuard(
      {
        maxPages: model.maxPages ?? this.config.sync.maxPages,
        maxRunMinutes: model.maxRunMinutes ?? this.config.sync.maxRunMinutes,
      },
      run.startedAt ?? this.clock.now(),
      run.pages,
      start,
    );
    // A run that keeps waiting (for a token, a provider) still ends on time.
    stopIf(guard.beforePage(0, this.clock.now()));
    // Every page was committed before a crash: only the completion is left.
    if (start.done) return this.complete(run, adapter, start.watermark, context);
    let checkpoint = start;
    let recoveries = 0;
    let auth = await this.tokens.forWorker(run.connectionId);
    /** The page at `checkpoint`, when it was fetched while the previous page was written. */
    let prefetched: Promise<Fetched> | undefined;
    const fetchFrom = async (position: Checkpoint): Promise<{ fetched: Promise<Fetched> }> => {
      // Renewed here, never inside a fetch running ahead (see the finally below).
      if (this.expiringSoon(auth)) auth = await this.tokens.forWorker(run.connectionId);
      // Wrapped: the fetch is started, not awaited.
      return {
        fetched: this.fetcher.fetch(run.connectionId, integration, adapter, position, auth),
      };
    };
    try {
      for (let done = 0; ; done += 1) {
        // Stopping: the pages in hand are committed; the job goes back to the queue to resume here.
        if (context.shutdown.aborted) throw new RetryLater(0);
        if (!prefetched) {
          stopIf(guard.beforePage(done, this.clock.now()));
          prefetched = (await fetchFrom(checkpoint)).fetched;
        }
        let fetched: Fetched;
        try {
          fetched = await prefetched;
        } catch (error) {
          checkpoint = await this.recover(run, adapter, checkpoint, error, (recoveries += 1));
          guard.restarted(checkpoint);
          continue;
        } finally {
          prefetched = undefined;
        }
        auth = fetched.auth;
        const { records, next, watermark } = fetched.page;
        stopIf(guard.afterPage(records, checkpoint, next));
        // The next page is fetched while this one is written: a page then
        // costs the slower of the provider's answer and the write, not both.
        // Writes stay in page order (this one commits before that one is
        // looked at). The run's page and time budgets are checked before the
        // fetch starts, as for any page.
        if (next && !context.shutdown.aborted && !guard.beforePage(done + 1, this.clock.now())) {
          const ahead = (await fetchFrom(next)).fetched;
          // Awaited on the next turn (or below); until then a failure must not count as unhandled.
          ahead.catch(() => undefined);
          prefetched = ahead;
        }
        await this.records.commitPage(run, records, next ?? { done: true, watermark });
        this.metrics.syncRecords.inc({ model: run.model }, records.length);
        if (!next) return this.complete(run, adapter, watermark, context);
        checkpoint = next;
      }
    } finally {
      // A page fetched ahead and never written (the run stopped, failed, was
      // cancelled or taken over) is dropped, but its request finishes before
      // the run lets go: a 401 in it renews the token, and that renewal must
      // be stored before the worker can shut down.
      if (prefetched) await prefetched.catch(() => undefined);
    }
  }

  /**
   * The provider no longer knows where the run was: an expired position (a
   * query locator) reads the feed again from its start; an expired sync
   * token makes the run a full one (which also finds deletions). Anything
   * else is not recovered here.
   */
  private async recover(
    run: SyncRun,
    adapter: SyncAdapter,
    checkpoint: Checkpoint,
    error: unknown,
    recoveries: number,
  ): Promise<Checkpoint> {
    const stale = error instanceof StaleCursorError;
    if (!stale && !(error instanceof SyncTokenExpiredError)) throw error;
    if (recoveries > MAX_FEED_RESTARTS) {
      throw new RunFailure(
        stale ? 'cursor_expired' : 'sync_token_expired',
        `${error.message}, again after ${MAX_FEED_RESTARTS} restarts`,
      );
    }
    this.logger.warn({
      syncRunId: run.id,
      reason: error.message,
      msg: stale
        ? 'stored position expired; reading the feed again'
        : 'sync token expired; running in full',
    });
    if (stale) return adapter.restart(checkpoint);
    await this.runs.markFull(run.id);
    run.full = true;
    return adapter.start(undefined);
  }

  private async complete(
    run: SyncRun,
    adapter: SyncAdapter,
    watermark: string | undefined,
    context: RunContext,
  ): Promise<void> {
    const done = await this.records.completeRun(
      run,
      adapter.watermarkKind === 'time' ? watermarkOf(watermark, run.startedAt) : watermark,
      context.attemptsMade,
      this.clock.now(),
    );
    this.logger.log({
      syncRunId: run.id,
      model: run.model,
      fetched: done.recordsFetched,
      upserted: done.recordsUpserted,
      deleted: done.recordsDeleted,
      msg: 'sync run succeeded',
    });
    this.metrics.syncRuns.inc({ model: run.model, status: 'succeeded' });
  }

  /** A token about to expire is renewed before a page uses it (see workValiditySeconds). */
  private expiringSoon(auth: WorkerTokens): boolean {
    const left = auth.tokens.expiresAt.getTime() - this.clock.now().getTime();
    return left < workValiditySeconds(auth.tokens.expiresAt, auth.obtainedAt) * 1000;
  }
}
