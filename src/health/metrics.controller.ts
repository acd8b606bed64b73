import { createHash, timingSafeEqual } from 'node:crypto';
import { Controller, Get, Headers, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Public, ServedOn } from '../auth/auth.decorators.js';
import { AuthenticationError } from '../common/errors/app-error.js';
import { AppConfig } from '../config/app-config.js';
import { Metrics } from '../infra/metrics/metrics.js';
import { QuietOnSuccess } from '../common/http/quiet-on-success.js';

/**
 * Prometheus scrape endpoint: on the internal listener when there is one,
 * and behind `METRICS_TOKEN` (a bearer token) when that is set. Not a
 * service key: a scraper should not hold a key that reads tokens.
 */
@Controller('metrics')
export class MetricsController {
  private readonly tokenDigest: Buffer | undefined;

  constructor(
    private readonly metrics: Metrics,
    config: AppConfig,
  ) {
    this.tokenDigest = config.metricsToken && digest(config.metricsToken.reveal());
  }

  @Get()
  @QuietOnSuccess()
  @Public()
  @ServedOn('internal')
  scrape(
    @Headers('authorization') authorization: string | undefined,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<string> {
    if (this.tokenDigest && !this.presents(authorization)) {
      throw new AuthenticationError(
        'metrics_token_required',
        'Send METRICS_TOKEN as "Authorization: Bearer <token>"',
      );
    }
    // Set here, not with @Header: that would also label the JSON error envelope as text.
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return this.metrics.registry.metrics();
  }

  /** Compared as digests of equal length, in constant time: the comparison leaks nothing. */
  private presents(authorization: string | undefined): boolean {
    const presented = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
    return presented !== undefined && timingSafeEqual(digest(presented), this.tokenDigest!);
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
