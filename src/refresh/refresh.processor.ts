import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { sleep } from '../common/backoff.js';
import { ConflictError, NotFoundError, ProviderError } from '../common/errors/app-error.js';
import { AppConfig } from '../config/app-config.js';
import { ConnectionStore } from '../connections/connection-store.js';
import { Clock } from '../infra/clock/clock.js';
import { JobWorkers, RetryLater } from '../infra/queue/job-workers.js';
import { IntegrationSlots, type Slot } from './integration-slots.js';
import { proactiveFreshness } from './refresh-policy.js';
import { RefreshHeldError } from './refresh-held.error.js';
import { RefreshService } from './refresh.service.js';

/** A job waits this long in the worker for its integration's slot, then goes back to the queue. */
const SLOT_WAIT_MS = 2_000;
const SLOT_POLL_MS = 50;

/**
 * `refresh.connection` jobs: one proactive refresh attempt; the queue does
 * the retrying. Each holds one of its integration's slots (IntegrationSlots)
 * while it runs, so a backlog of one provider's connections never has more
 * than REFRESH_INTEGRATION_CONCURRENCY refreshes at that provider at once.
 */
@Injectable()
export class RefreshProcessor implements OnModuleInit {
  private readonly logger = new Logger(RefreshProcessor.name);

  constructor(
    private readonly config: AppConfig,
    private readonly workers: JobWorkers,
    private readonly connections: ConnectionStore,
    private readonly refresher: RefreshService,
    private readonly slots: IntegrationSlots,
    private readonly clock: Clock,
  ) {}

  onModuleInit(): void {
    this.workers.register('refresh.connection', ({ connectionId }) => this.run(connectionId));
  }

  async run(connectionId: string): Promise<'refreshed' | 'skipped'> {
    const connection = await this.connections.findById(connectionId);
    if (connection?.status !== 'active') return 'skipped';
    const slot = await this.takeSlot(connection.integrationKey);
    try {
      await this.refresher.refresh(
        connectionId,
        proactiveFreshness(connection, this.config.tokens, this.clock.now()),
        {
          attempts: 1,
        },
        { trigger: 'proactive' },
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
    } finally {
      await slot.release().catch(() => undefined);
    }
  }

  /**
   * Waits briefly for a slot (they turn over in a provider round trip);
   * past that, the job goes back to the queue (delayed, no attempt spent)
   * so this worker's capacity serves other integrations meanwhile.
   */
  private async takeSlot(integrationKey: string): Promise<Slot> {
    const giveUpAt = Date.now() + SLOT_WAIT_MS;
    for (;;) {
      const slot = await this.slots.tryTake(integrationKey);
      if (slot) return slot;
      if (Date.now() >= giveUpAt) throw new RetryLater(500 + Math.floor(Math.random() * 1_000));
      await sleep(SLOT_POLL_MS / 2 + Math.random() * SLOT_POLL_MS);
    }
  }
}
