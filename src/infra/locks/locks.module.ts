import { Global, Module } from '@nestjs/common';
import { RedisLock } from './redis-lock.js';

@Global()
@Module({ providers: [RedisLock], exports: [RedisLock] })
export class LocksModule {}
