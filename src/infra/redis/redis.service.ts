import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { Redis } from 'ioredis';
import { AppConfig } from '../../config/app-config.js';

/** The shared Redis connection for flow state and locks, with this deployment's key prefix. */
@Injectable()
export class RedisService implements OnApplicationShutdown {
  readonly client: Redis;
  readonly prefix: string;

  constructor(config: AppConfig) {
    this.prefix = config.redis.prefix;
    this.client = new Redis(config.redis.url.reveal(), {
      lazyConnect: false,
      maxRetriesPerRequest: 2,
      connectTimeout: 5_000,
    });
    // Connection errors surface on the commands that need Redis; an
    // unhandled 'error' event would otherwise crash the process.
    this.client.on('error', () => undefined);
  }

  key(...parts: string[]): string {
    return `${this.prefix}${parts.join(':')}`;
  }

  // Closed in the last shutdown phase: jobs finishing their step in onModuleDestroy still need it.
  async onApplicationShutdown(): Promise<void> {
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
