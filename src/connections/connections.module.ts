import { Module } from '@nestjs/common';
import { OAuthModule } from '../oauth/oauth.module.js';
import { ConnectionsRepository } from './connections.repository.js';
import { ConnectionsService } from './connections.service.js';
import { CredentialKeysCheck } from './credential-keys.check.js';
import { CredentialsRepository } from './credentials.repository.js';
import { KeyRotationRepository } from './key-rotation.repository.js';
import { KeyRotationService } from './key-rotation.service.js';
import { PendingCredentialsStore } from './pending-credentials.store.js';
import { PendingGrantsRepository } from './pending-grants.repository.js';
import { RevocationService } from './revocation.service.js';
import { RevocationsRepository } from './revocations.repository.js';

@Module({
  imports: [OAuthModule],
  providers: [
    ConnectionsRepository,
    CredentialsRepository,
    RevocationsRepository,
    PendingCredentialsStore,
    PendingGrantsRepository,
    ConnectionsService,
    RevocationService,
    CredentialKeysCheck,
    KeyRotationRepository,
    KeyRotationService,
  ],
  exports: [
    ConnectionsRepository,
    CredentialsRepository,
    RevocationsRepository,
    PendingCredentialsStore,
    PendingGrantsRepository,
    ConnectionsService,
    RevocationService,
    KeyRotationService,
  ],
})
export class ConnectionsModule {}
