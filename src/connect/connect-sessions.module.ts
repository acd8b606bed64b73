import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module.js';
import { ConnectSessionsRepository } from './connect-sessions.repository.js';
import { ConnectSessionsService } from './connect-sessions.service.js';

/**
 * Connect sessions on their own, for both roles: the API makes them for
 * callers, and refresh (in either role) makes the reconnect link of a
 * `connection.reauth_required` event.
 */
@Module({
  imports: [ConnectionsModule],
  providers: [ConnectSessionsRepository, ConnectSessionsService],
  exports: [ConnectSessionsRepository, ConnectSessionsService],
})
export class ConnectSessionsModule {}
