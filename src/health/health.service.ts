import { Injectable, type OnModuleDestroy } from '@nestjs/common';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import { RedisService } from '../infra/redis/redis.service.js';

type Check = 'ok' | 'failed';

export interface Readiness {
  /** ok; degraded: tokens are served, but what needs Redis (connect, refresh, sync) may fail; unavailable; shutting_down. */
  status: 'ok' | 'degraded' | 'unavailable' | 'shutting_down';
  checks: { database: Check; redis: Check };
}

const CHECK_TIMEOUT_MS = 2_000;

/**
 * Readiness means "can serve tokens": that needs PostgreSQL only, so a Redis
 * outage reports `degraded` with 200 instead of taking every replica out of a
 * load balancer at once. A stopping process answers 503 first, so traffic
 * moves away before its listener closes.
 */
@Injectable()
export class HealthService implements OnModuleDestroy {
  private stopping = false;

  constructor(
    private readonly prisma: PrismaService,
    private readonly redis: RedisService,
  ) {}

  /** From SIGTERM on (see graceful-shutdown.ts): readiness answers 503 while requests are still served. */
  beginShutdown(): void {
    this.stopping = true;
  }

  // The first shutdown phase, when the app is closed without a signal (tests, the CLI).
  onModuleDestroy(): void {
    this.stopping = true;
  }

  async readiness(): Promise<Readiness> {
    const [database, redis] = await Promise.all([
      probe(() => this.prisma.$queryRaw`SELECT 1`),
      probe(() => this.redis.client.ping()),
    ]);
    const checks = { database, redis };
    if (this.stopping) return { status: 'shutting_down', checks };
    if (database !== 'ok') return { status: 'unavailable', checks };
    return { status: redis === 'ok' ? 'ok' : 'degraded', checks };
  }
}

async function probe(fn: () => Promise<unknown>): Promise<Check> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([fn(), timeout]);
    return 'ok';
  } catch {
    return 'failed';
  } finally {
    clearTimeout(timer);
  }
}
