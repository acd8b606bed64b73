import { Injectable, Logger } from '@nestjs/common';
import { AppError, retryAfterOf } from '../common/errors/app-error.js';
import { isDatabaseUnavailable } from '../common/errors/dependency-errors.js';
import { ThrottledLog } from '../common/logging/throttled-log.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';
import { Metrics } from '../infra/metrics/metrics.js';
import { RetryLater } from '../infra/queue/job-workers.js';
import { type RunContext, type RunOutcome, terminalFailure } from './run-outcome.js';
import { ExecutionStopped, type SyncRun } from './sync-run.js';
import { SyncRunsRepository } from './sync-runs.repository.js';

/** How long a run waits (plus jitter up to as much again) while PostgreSQL is down. */
const DATABASE_WAIT_MS = 5_000;

/**
 * How an execution of a run ends when a page did not go through: wait
 * (Retry-After, a database outage) without spending an attempt, fail for
 * good, hand back to BullMQ for a retry, or stop because the run is no
 * longer this execution's.
 */
@Injectable()
export class RunEndings {
  private readonly logger = new Logger('SyncRunner');
  private readonly databaseOutageLog = new ThrottledLog();

  constructor(
    private readonly runs: SyncRunsRepository,
    private readonly connections: ConnectionStore,
    private readonly metrics: Metrics,
    private readonly clock: Clock,
  ) {}

  async onError(run: SyncRun, error: unknown, context: RunContext): Promise<RunOutcome> {
    if (error instanceof RetryLater) throw error;
    if (error instanceof ExecutionStopped) return this.stopped(run, context);
    const wait = this.waitForDatabase(error);
    if (wait) throw wait;
    // Honour Retry-After (a provider's 429, an integration or connection
    // holding its refreshes) without spending one of the job's attempts; the
    // run's time budget still ends it.
    const waitSeconds = retryAfterOf(error);
    if (waitSeconds !== undefined) {
      this.logger.log({
        syncRunId: run.id,
        errorCode: error instanceof AppError ? error.code : undefined,
        waitSeconds,
        msg: 'waiting before the next attempt',
      });
      throw new RetryLater(waitSeconds * 1000);
    }
    const terminal = terminalFailure(error);
    if (terminal) {
      return this.fail(run, terminal.code, terminal.message, context.attemptsMade, {
        msg: 'sync run failed',
      });
    }
    const code = error instanceof AppError ? error.code : 'sync_error';
    if (context.finalAttempt) {
      return this.fail(run, code, 'Retries exhausted', context.attemptsMade + 1, {
        err: error,
        msg: 'sync run failed after retries',
      });
    }
    this.logger.warn({
      syncRunId: run.id,
      errorCode: code,
      err: error,
      msg: 'sync attempt failed; BullMQ retries from the checkpoint',
    });
    throw error;
  }

  /** Ends the run `failed` for good: the row, one log line, the metric. */
  private async fail(
    run: SyncRun,
    code: string,
    message: string,
    attempts: number,
    log: { msg: string; err?: unknown },
  ): Promise<RunOutcome> {
    await this.runs.fail(run, code, message, attempts, this.clock.now());
    this.logger.warn({ syncRunId: run.id, errorCode: code, ...log });
    this.metrics.syncRuns.inc({ model: run.model, status: 'failed' });
    return 'failed';
  }

  /**
   * PostgreSQL is down: the job waits and tries again without spending an
   * attempt (five attempts would otherwise burn in seconds); the run resumes
   * from its checkpoint, and its time budget still ends it.
   */
  waitForDatabase(error: unknown): RetryLater | undefined {
    if (!isDatabaseUnavailable(error)) return undefined;
    this.databaseOutageLog.maybe((suppressed) =>
      this.logger.warn({
        errorCode: 'database_unavailable',
        suppressed,
        msg: 'PostgreSQL is unreachable; sync runs wait',
      }),
    );
    return new RetryLater(DATABASE_WAIT_MS + Math.floor(Math.random() * DATABASE_WAIT_MS));
  }

  /**
   * A commit was refused: say why, and end this execution without a retry.
   * Cancelled or taken over: the run is someone else's now. Its connection
   * stopped being active (disconnected, needs_reauth): the run fails.
   */
  private async stopped(run: SyncRun, context: RunContext): Promise<RunOutcome> {
    const current = await this.runs.find(run.id);
    if (current?.status === 'running' && current.executionId === run.executionId) {
      const connection = await this.connections.findById(run.connectionId);
      const code = connection?.status === 'needs_reauth' ? 'needs_reauth' : 'connection_not_active';
      return this.fail(run, code, 'The connection is no longer active', context.attemptsMade, {
        msg: 'sync run stopped: connection not active',
      });
    }
    this.logger.log({
      syncRunId: run.id,
      status: current?.status,
      msg:
        current?.status === 'cancelled'
          ? 'sync run cancelled; stopped after the page in hand'
          : 'another execution took this run over; this one stops',
    });
    return 'skipped';
  }
}
