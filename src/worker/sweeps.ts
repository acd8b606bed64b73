import { Injectable } from '@nestjs/common';
import { AuditRetentionSweep } from '../audit/audit-retention.sweep.js';
import { EventRetentionSweep } from '../events/event-retention.sweep.js';
import { KeyRotationSweep } from '../key-rotation/key-rotation.sweep.js';
import { PendingGrantsSweep } from '../parked-grants/pending-grants.sweep.js';
import { RefreshSweep } from '../refresh/refresh.sweep.js';
import { RevocationSweep } from '../revocation/revocation.sweep.js';
import { SyncRecoverySweep } from '../sync/sync-recovery.sweep.js';
import { SyncSchedules } from '../sync/sync-schedules.js';

/** One periodic job of the worker role: it only looks at PostgreSQL and enqueues. */
export interface SweepDefinition {
  name: string;
  /** Runs every this many base intervals (SWEEP_INTERVAL_SECONDS). */
  everyIntervals: number;
  run(): Promise<unknown>;
}

/**
 * Every sweep, its name (the metric label) and its cadence, in one place.
 * Each runs on its own timer with its own error handling, so one failing
 * sweep never holds up or skips another.
 */
@Injectable()
export class SweepRegistry {
  readonly sweeps: SweepDefinition[];

  constructor(
    refresh: RefreshSweep,
    pendingGrants: PendingGrantsSweep,
    revocations: RevocationSweep,
    schedules: SyncSchedules,
    syncRecovery: SyncRecoverySweep,
    eventRetention: EventRetentionSweep,
    keyRotation: KeyRotationSweep,
    auditRetention: AuditRetentionSweep,
  ) {
    this.sweeps = [
      { name: 'refresh', everyIntervals: 1, run: () => refresh.sweep() },
      { name: 'parked_grants', everyIntervals: 1, run: () => pendingGrants.sweep() },
      { name: 'revocations', everyIntervals: 1, run: () => revocations.sweep() },
      { name: 'sync_schedules', everyIntervals: 1, run: () => schedules.reconcile() },
      { name: 'sync_recovery', everyIntervals: 1, run: () => syncRecovery.sweep() },
      // Hourly is plenty for pruning and for noticing a new active key.
      { name: 'event_retention', everyIntervals: 60, run: () => eventRetention.sweep() },
      { name: 'key_rotation', everyIntervals: 5, run: () => keyRotation.sweep() },
      { name: 'audit_retention', everyIntervals: 60, run: () => auditRetention.sweep() },
    ];
  }
}
