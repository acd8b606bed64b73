import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { KeyRevocationsPublisher } from './key-revocations.js';
import { KeyRevocationsSubscriber, RedisKeyRevocationsPublisher } from './key-revocations.redis.js';
import { ServiceKeyGuard } from './service-key.guard.js';
import { ServiceKeysRepository } from './service-keys.repository.js';
import { ServiceKeysService } from './service-keys.service.js';

@Module({
  providers: [
    ServiceKeysRepository,
    ServiceKeysService,
    { provide: KeyRevocationsPublisher, useClass: RedisKeyRevocationsPublisher },
    KeyRevocationsSubscriber,
    { provide: APP_GUARD, useClass: ServiceKeyGuard },
  ],
  exports: [ServiceKeysService],
})
export class AuthModule {}
