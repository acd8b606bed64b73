import { Module } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { ConnectionsModule } from '../connections/connections.module.js';
import { KeyRotationProcessor } from '../key-rotation/key-rotation.processor.js';
import { KeyRotationSweep } from '../key-rotation/key-rotation.sweep.js';
import { PendingGrantsSweep } from '../parked-grants/pending-grants.sweep.js';
import { RevocationProcessor } from '../revocation/revocation.processor.js';
import { RevocationSweep } from '../revocation/revocation.sweep.js';
import { EventsModule } from '../events/events.module.js';
import { KeyRotationModule } from '../key-rotation/key-rotation.module.js';
import { ParkedGrantsModule } from '../parked-grants/parked-grants.module.js';
import { RevocationModule } from '../revocation/revocation.module.js';
import { RefreshModule } from '../refresh/refresh.module.js';
import { RefreshProcessor } from '../refresh/refresh.processor.js';
import { RefreshSweep } from '../refresh/refresh.sweep.js';
import { SyncModule } from '../sync/sync.module.js';
import { SyncProcessor } from '../sync/sync.processor.js';
import { SweepsScheduler } from './sweeps.scheduler.js';
import { SweepRegistry } from './sweeps.js';

/** The `worker` role: job processors and the sweeps that feed them. */
@Module({
  imports: [
    ScheduleModule.forRoot(),
    ConnectionsModule,
    EventsModule,
    KeyRotationModule,
    ParkedGrantsModule,
    RefreshModule,
    RevocationModule,
    SyncModule,
  ],
  providers: [
    KeyRotationProcessor,
    KeyRotationSweep,
    PendingGrantsSweep,
    RefreshProcessor,
    RefreshSweep,
    RevocationProcessor,
    RevocationSweep,
    SyncProcessor,
    SweepRegistry,
    SweepsScheduler,
  ],
  exports: [RefreshSweep, RevocationSweep, RefreshProcessor],
})
export class WorkerModule {}
