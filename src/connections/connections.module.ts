import { Module } from '@nestjs/common';
import { RevocationModule } from '../revocation/revocation.module.js';
import { ConnectionCache } from './connection-cache.js';
import { ConnectionStore, CredentialStore } from './connection-store.js';
import { ConnectionSweepsRepository } from './connection-sweeps.repository.js';
import { ConnectionsRepository } from './connections.repository.js';
import { ConnectionsService } from './connections.service.js';
import { CredentialsRepository } from './credentials.repository.js';
import { PendingCredentialsStore } from './pending-credentials.store.js';

/**
 * Connections and their sealed credentials. Other features use the façades:
 * ConnectionsService (callers with a service key), ConnectionStore and
 * CredentialStore (internal), PendingCredentialsStore (refresh's safety net).
 */
@Module({
  imports: [RevocationModule],
  providers: [
    ConnectionCache,
    ConnectionsRepository,
    ConnectionSweepsRepository,
    CredentialsRepository,
    PendingCredentialsStore,
    ConnectionsService,
    ConnectionStore,
    CredentialStore,
  ],
  exports: [ConnectionsService, ConnectionStore, CredentialStore, PendingCredentialsStore],
})
export class ConnectionsModule {}
