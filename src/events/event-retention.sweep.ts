import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { Clock } from '../infra/clock/clock.js';
import { OutboxRepository } from './outbox.repository.js';

/** Keeps the outbox bounded: events older than EVENT_RETENTION_DAYS go, delivered or not. */
@Injectable()
export class EventRetentionSweep {
  private readonly logger = new Logger(EventRetentionSweep.name);

  constructor(
    private readonly config: AppConfig,
    private readonly outbox: OutboxRepository,
    private readonly clock: Clock,
  ) {}

  async sweep(): Promise<number> {
    const cutoff = new Date(
      this.clock.now().getTime() - this.config.eventRetentionDays * 86_400_000,
    );
    const deleted = await this.outbox.pruneCreatedBefore(cutoff);
    if (deleted) this.logger.log({ deleted, msg: 'old events pruned' });
    return deleted;
  }
}
