import { Global, Module } from '@nestjs/common';
import { ProviderHttp } from './http/provider-http.js';
import { PrismaService } from './prisma/prisma.service.js';
import { EvictionPolicyCheck } from './redis/eviction-policy.check.js';
import { RedisService } from './redis/redis.service.js';

@Global()
@Module({
  providers: [PrismaService, RedisService, EvictionPolicyCheck, ProviderHttp],
  exports: [PrismaService, RedisService, ProviderHttp],
})
export class InfraModule {}
