import { Injectable, type OnModuleInit } from '@nestjs/common';
import { JobWorkers } from '../infra/queue/job-workers.js';
import { SyncRunner } from './sync-runner.service.js';
import { SyncService } from './sync.service.js';

/** `sync.run` (execute a run) and `sync.schedule` (a scheduler fired: start a run). */
@Injectable()
export class SyncProcessor implements OnModuleInit {
  constructor(
    private readonly workers: JobWorkers,
    private readonly runner: SyncRunner,
    private readonly syncs: SyncService,
  ) {}

  onModuleInit(): void {
    this.workers.register('sync.run', (payload, job, shutdown) =>
      this.runner.execute(payload.syncRunId, {
        attemptsMade: job.attemptsMade,
        finalAttempt: job.attemptsMade + 1 >= (job.opts.attempts ?? 1),
        shutdown,
      }),
    );
    this.workers.register('sync.schedule', async ({ connectionId, model }) => {
      await this.syncs.triggerScheduled(connectionId, model);
    });
  }
}
