import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { RedisService } from './redis.service.js';

const CHECK_TIMEOUT_MS = 2_000;

/**
 * BullMQ needs `maxmemory-policy noeviction`: under memory pressure any other
 * policy silently deletes queue keys, and jobs vanish. Returns the warning to
 * give, or undefined when the policy is right or cannot be read (managed
 * Redis often disables CONFIG; that is not a reason to refuse to start).
 */
export async function evictionPolicyWarning(redis: Redis): Promise<string | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const answer = await Promise.race<unknown>([
      redis.config('GET', 'maxmemory-policy'),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), CHECK_TIMEOUT_MS);
      }),
    ]);
    const policy = Array.isArray(answer) ? (answer[1] as string | undefined) : undefined;
    if (!policy || policy === 'noeviction') return undefined;
    return `Redis maxmemory-policy is "${policy}": BullMQ needs "noeviction", or queued jobs can be evicted under memory pressure (set it with CONFIG SET maxmemory-policy noeviction, or in redis.conf)`;
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

@Injectable()
export class EvictionPolicyCheck implements OnApplicationBootstrap {
  private readonly logger = new Logger('Redis');

  constructor(private readonly redis: RedisService) {}

  onApplicationBootstrap(): void {
    // Not awaited: a Redis that is down must not hold up the start (tokens need only PostgreSQL).
    void evictionPolicyWarning(this.redis.client).then((warning) => {
      if (warning) this.logger.warn(warning);
    });
  }
}
