import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module.js';
import { RateLimitModule } from '../rate-limit/rate-limit.module.js';
import { RefreshModule } from '../refresh/refresh.module.js';
import { PageFetcher } from './page-fetcher.js';
import { RunEndings } from './run-endings.js';
import { ProviderApiClient } from './provider-api.client.js';
import { RecordsRepository } from './records.repository.js';
import { SyncRecoverySweep } from './sync-recovery.sweep.js';
import { SyncRunner } from './sync-runner.service.js';
import { SyncRunsRepository } from './sync-runs.repository.js';
import { SyncSchedules } from './sync-schedules.js';
import { SyncService } from './sync.service.js';

@Module({
  imports: [ConnectionsModule, RateLimitModule, RefreshModule],
  providers: [
    SyncService,
    SyncRunner,
    SyncRunsRepository,
    RecordsRepository,
    ProviderApiClient,
    PageFetcher,
    RunEndings,
    SyncSchedules,
    SyncRecoverySweep,
  ],
  exports: [SyncService, SyncRunner, SyncSchedules, SyncRecoverySweep],
})
export class SyncModule {}
