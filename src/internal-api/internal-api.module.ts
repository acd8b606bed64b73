import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module.js';
import { RefreshModule } from '../refresh/refresh.module.js';
import { CatalogueController } from './catalogue.controller.js';
import { ConnectionsController } from './connections.controller.js';

@Module({
  imports: [ConnectionsModule, RefreshModule],
  controllers: [ConnectionsController, CatalogueController],
})
export class InternalApiModule {}
