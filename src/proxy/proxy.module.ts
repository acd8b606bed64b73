import { Module } from '@nestjs/common';
import { RateLimitModule } from '../rate-limit/rate-limit.module.js';
import { RefreshModule } from '../refresh/refresh.module.js';
import { ProxyUpstreamClient } from './proxy-upstream.client.js';
import { ProxyController } from './proxy.controller.js';
import { ProxyService } from './proxy.service.js';

/** The API proxy (`/v1/proxy/:connectionId/*`): HTTP role only. */
@Module({
  imports: [RateLimitModule, RefreshModule],
  controllers: [ProxyController],
  providers: [ProxyService, ProxyUpstreamClient],
  exports: [ProxyService],
})
export class ProxyModule {}
