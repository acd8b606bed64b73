import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { ConflictError, NotFoundError, ProviderError } from '../common/errors/app-error.js';
import { AppConfig } from '../config/app-config.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';
import { JobWorkers, RetryLater } from '../infra/queue/job-workers.js';
import { proactiveFreshness } from './refresh-policy.js';
import { RefreshHeldError } from './refresh-held.error.js';
import { RefreshService } from './refresh.service.js';

/** `refresh.connection` jobs: one proactive refresh attempt; the queue does the retrying. */
@Injectable()
export class RefreshProcessor implements OnModuleInit {
  private readonly logger = new Logger(RefreshProcessor.name);

  constructor(
    private readonly config: AppConfig,
    private readonly workers: JobWorkers,
    private readonly connections: ConnectionStore,
    private readonly refresher: RefreshService,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.workers.register('refresh.connection', ({ connectionId }) => this.run(connectionId));
  }

  async run(connectionId: string): Promise<'refreshed' | 'skipped'> {
    const connection = await this.connections.findById(connectionId);
    if (connection?.status !== 'active') return 'skipped';
    try {
      await this.refresher.refresh(
        connectionId,
        proactiveFreshness(connection, this.config.tokens, this.clock.now()),
        {
          attempts: 1,
        },
      );
      return 'refreshed';
    } catch (error) {
      // A dead grant is an outcome (needs_reauth, event written), not a job
      // failure to retry; so is a connection or integration holding off
      // (the sweep queues it again when it is due).
      if (
        error instanceof ConflictError ||
        error instanceof NotFoundError ||
        error instanceof RefreshHeldError
      ) {
        this.logger.log({ connectionId, errorCode: error.code, msg: 'proactive refresh skipped' });
        return 'skipped';
      }
      // Honour the provider's Retry-After without spending an attempt.
      if (error instanceof ProviderError && error.detail.retryAfterSeconds !== undefined) {
        throw new RetryLater(error.detail.retryAfterSeconds * 1000);
      }
      throw error;
    }
  }
}
