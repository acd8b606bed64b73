import { Module } from '@nestjs/common';
import { ConnectionsModule } from '../connections/connections.module.js';
import { ParkedGrantsModule } from '../parked-grants/parked-grants.module.js';
import { RevocationModule } from '../revocation/revocation.module.js';
import { CredentialKeysCheck } from './credential-keys.check.js';
import { KeyRotationRepository } from './key-rotation.repository.js';
import { KeyRotationService } from './key-rotation.service.js';

/** The key ring's life: refusing keys that cannot read what is stored, and moving rows to the active key. */
@Module({
  imports: [ConnectionsModule, RevocationModule, ParkedGrantsModule],
  providers: [KeyRotationRepository, KeyRotationService, CredentialKeysCheck],
  exports: [KeyRotationService],
})
export class KeyRotationModule {}
