import { Module } from '@nestjs/common';
import { OAuthModule } from '../oauth/oauth.module.js';
import { ConnectionsRepository } from './connections.repository.js';
import { ConnectionsService } from './connections.service.js';
import { CredentialKeysCheck } from './credential-keys.check.js';

@Module({
  imports: [OAuthModule],
  providers: [ConnectionsRepository, ConnectionsService, CredentialKeysCheck],
  exports: [ConnectionsRepository, ConnectionsService],
})
export class ConnectionsModule {}
