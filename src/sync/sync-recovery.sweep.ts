import { Injectable } from '@nestjs/common';
import { SyncRunsRepository } from './sync-runs.repository.js';
import { SyncService } from './sync.service.js';

/**
 * Runs are rows in PostgreSQL first; their jobs can be lost with Redis. This
 * re-queues every queued or running run (a job that still exists is left
 * alone, its id being deterministic).
 */
@Injectable()
export class SyncRecoverySweep {
  constructor(
    private readonly runs: SyncRunsRepository,
    private readonly syncs: SyncService,
  ) {}

  async sweep(): Promise<number> {
    const active = await this.runs.active(500);
    for (const run of active) await this.syncs.requeue(run);
    return active.length;
  }
}
