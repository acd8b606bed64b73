import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module.js';
import { RefreshModule } from '../refresh/refresh.module.js';
import { SyncModule } from '../sync/sync.module.js';
import { AuditController } from './audit.controller.js';
import { CatalogueController } from './catalogue.controller.js';
import { ConnectionsController } from './connections.controller.js';
import { SyncsController } from './syncs.controller.js';

@Module({
  imports: [ConnectionsModule, RefreshModule, SyncModule],
  controllers: [ConnectionsController, CatalogueController, SyncsController, AuditController],
})
export class InternalApiModule {}
