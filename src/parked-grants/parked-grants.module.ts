import { Module } from '@nestjs/common';
import { RevocationModule } from '../revocation/revocation.module.js';
import { ParkedGrants } from './parked-grants.service.js';
import { PendingGrantsRepository } from './pending-grants.repository.js';

@Module({
  imports: [RevocationModule],
  providers: [PendingGrantsRepository, ParkedGrants],
  exports: [ParkedGrants],
})
export class ParkedGrantsModule {}
