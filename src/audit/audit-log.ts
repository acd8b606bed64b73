import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { type AuditEntry, AuditRepository } from './audit.repository.js';

/** Beyond this many unwritten rows (database down), the oldest are dropped and counted in the log. */
const MAX_PENDING = 10_000;
const BATCH = 500;

/**
 * Write-behind audit trail. Recording never waits for the database, so the
 * token hot path pays no extra round trip: a row is written at once when the
 * log is idle, and rows that arrive while a write is in flight go together
 * in the next one. Shutdown drains what is pending.
 */
@Injectable()
export class AuditLog implements OnModuleDestroy {
  private readonly logger = new Logger(AuditLog.name);
  private pending: AuditEntry[] = [];
  private flushing?: Promise<void>;
  private dropped = 0;

  constructor(private readonly repository: AuditRepository) {}

  record(entry: AuditEntry): void {
    if (this.pending.length >= MAX_PENDING) {
      this.pending.shift();
      this.dropped += 1;
    }
    this.pending.push(entry);
    this.schedule();
  }

  /** Resolves once everything recorded so far is written (or given up on). */
  async drain(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  async onModuleDestroy(): Promise<void> {
    await this.drain();
  }

  private schedule(): void {
    this.flushing ??= this.flush().finally(() => {
      this.flushing = undefined;
      if (this.pending.length) this.schedule();
    });
  }

  private async flush(): Promise<void> {
    // Let the current tick's records join this write.
    await Promise.resolve();
    while (this.pending.length) {
      const batch = this.pending.splice(0, BATCH);
      try {
        await this.repository.recordMany(batch);
      } catch (error) {
        this.logger.error({
          err: error,
          rows: batch.length,
          msg: 'audit rows could not be written',
        });
      }
      if (this.dropped) {
        this.logger.error({ rows: this.dropped, msg: 'audit rows dropped: too many unwritten' });
        this.dropped = 0;
      }
    }
  }
}
