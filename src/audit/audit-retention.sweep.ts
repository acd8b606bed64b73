import { Injectable, Logger } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { Clock } from '../infra/clock/clock.js';
import { AuditRepository } from './audit.repository.js';

/** Batches removed per run: a long-overdue purge spreads over several runs, never one huge transaction. */
const MAX_BATCHES = 10_000;

/**
 * Removes audit batches older than AUDIT_RETENTION_DAYS through
 * audit_purge(), which takes them from the front of the chain by seq, so
 * `audit verify` never sees a gap.
 */
@Injectable()
export class AuditRetentionSweep {
  private readonly logger = new Logger(AuditRetentionSweep.name);

  constructor(
    private readonly config: AppConfig,
    private readonly repository: AuditRepository,
    private readonly clock: Clock,
  ) {}

  async sweep(): Promise<number> {
    const cutoff = new Date(
      this.clock.now().getTime() - this.config.audit.retentionDays * 86_400_000,
    );
    const purged = await this.repository.purgeBefore(cutoff, MAX_BATCHES);
    if (purged) this.logger.log({ purged, msg: 'old audit batches purged' });
    return purged;
  }
}
