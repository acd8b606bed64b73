import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public } from '../auth/auth.decorators.js';
import { HealthService } from './health.service.js';
import { QuietOnSuccess } from '../common/http/quiet-on-success.js';

@Controller('health')
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** The process is up (no dependency checks, so a database blip does not restart pods). */
  @Get('live')
  @QuietOnSuccess()
  @Public()
  @HttpCode(200)
  live() {
    return { status: 'ok' };
  }

  /** Ready to serve tokens: PostgreSQL answers (Redis down is `degraded`, still 200); 503 while stopping. */
  @Get('ready')
  @QuietOnSuccess()
  @Public()
  async ready(@Res({ passthrough: true }) reply: FastifyReply) {
    const readiness = await this.health.readiness();
    const serving = readiness.status === 'ok' || readiness.status === 'degraded';
    reply.status(serving ? 200 : 503).header('cache-control', 'no-store');
    return readiness;
  }
}
