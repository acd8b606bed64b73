import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { AppConfig } from '../config/app-config.js';
import { EventRetentionSweep } from '../events/event-retention.sweep.js';
import { KeyRotationSweep } from '../key-rotation/key-rotation.sweep.js';
import { PendingGrantsSweep } from '../parked-grants/pending-grants.sweep.js';
import { RevocationSweep } from '../revocation/revocation.sweep.js';
import { RefreshSweep } from '../refresh/refresh.sweep.js';
import { SyncRecoverySweep } from '../sync/sync-recovery.sweep.js';
import { SyncSchedules } from '../sync/sync-schedules.js';

/**
 * Runs the sweeps on an interval (every replica may run them: they only
 * enqueue, and job ids deduplicate). An interval of 0 turns them off.
 */
@Injectable()
export class SweepsScheduler implements OnApplicationBootstrap {
  private readonly logger = new Logger(SweepsScheduler.name);
  private running = false;

  constructor(
    private readonly config: AppConfig,
    private readonly registry: SchedulerRegistry,
    private readonly refresh: RefreshSweep,
    private readonly revocations: RevocationSweep,
    private readonly schedules: SyncSchedules,
    private readonly syncRecovery: SyncRecoverySweep,
    private readonly eventRetention: EventRetentionSweep,
    private readonly keyRotation: KeyRotationSweep,
    private readonly pendingGrants: PendingGrantsSweep,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = this.config.tokens.sweepIntervalSeconds;
    if (seconds === 0) return;
    this.registry.addInterval(
      'sweeps',
      setInterval(() => void this.tick(), seconds * 1000),
    );
  }

  async tick(): Promise<void> {
    // A slow sweep (database under load) is not overlapped by the next one.
    if (this.running) return;
    this.running = true;
    try {
      await this.refresh.sweep();
      // Before the revocation sweep, which then finds what this one queued as pending rows.
      await this.pendingGrants.sweep();
      await this.revocations.sweep();
      await this.schedules.reconcile();
      await this.syncRecovery.sweep();
      await this.eventRetention.sweep();
      await this.keyRotation.sweep();
    } catch (error) {
      this.logger.error({ err: error, msg: 'sweep failed' });
    } finally {
      this.running = false;
    }
  }
}
