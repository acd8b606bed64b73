import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ServiceKeyGuard } from './service-key.guard.js';
import { ServiceKeysRepository } from './service-keys.repository.js';
import { ServiceKeysService } from './service-keys.service.js';

@Module({
  providers: [
    ServiceKeysRepository,
    ServiceKeysService,
    { provide: APP_GUARD, useClass: ServiceKeyGuard },
  ],
  exports: [ServiceKeysService],
})
export class AuthModule {}
