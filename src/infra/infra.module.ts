import { Global, Module } from '@nestjs/common';
import { Clock, SystemClock } from './clock/clock.js';
import { PrismaService } from './prisma/prisma.service.js';
import { RedisService } from './redis/redis.service.js';

@Global()
@Module({
  providers: [PrismaService, RedisService, { provide: Clock, useClass: SystemClock }],
  exports: [PrismaService, RedisService, Clock],
})
export class InfraModule {}
