import { Module } from '@nestjs/common';
import { OAuthModule } from '../oauth/oauth.module.js';
import { RevocationService } from './revocation.service.js';
import { RevocationsRepository } from './revocations.repository.js';

/** RFC 7009 revocation of grants the broker no longer keeps, durable across outages. */
@Module({
  imports: [OAuthModule],
  providers: [RevocationsRepository, RevocationService],
  exports: [RevocationService],
})
export class RevocationModule {}
