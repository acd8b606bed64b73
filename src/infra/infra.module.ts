import { Global, Module } from '@nestjs/common';
import { PrismaService } from './prisma/prisma.service.js';
import { EvictionPolicyCheck } from './redis/eviction-policy.check.js';
import { RedisService } from './redis/redis.service.js';

@Global()
@Module({
  providers: [PrismaService, RedisService, EvictionPolicyCheck],
  exports: [PrismaService, RedisService],
})
export class InfraModule {}
