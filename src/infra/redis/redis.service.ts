import { Injectable, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { AppConfig } from '../../config/app-config.js';

/**
 * A connection that serves requests. While Redis is away its commands fail
 * at once (no offline queue), so a request that needs Redis answers 503
 * instead of hanging, and a token read, which needs no Redis, is never held
 * up. Reconnection is tried at least once a second, so service resumes
 * within about a second of Redis coming back.
 */
export function failFastRedis(url: string): Redis {
  const options: RedisOptions = {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  };
  const client = new Redis(url, options);
  // Connection errors surface on the commands that need Redis; an
  // unhandled 'error' event would otherwise crash the process.
  client.on('error', () => undefined);
  return client;
}

/**
 * Waits (bounded) for a fresh connection to be ready: without an offline
 * queue, commands sent during the first connect would fail. A Redis that is
 * down must not hold up the start: tokens need only PostgreSQL.
 */
export async function readyOrNot(client: Redis, timeoutMs = 3_000): Promise<void> {
  if (client.status === 'ready') return;
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    client.once('ready', resolve);
  });
  clearTimeout(timer);
}

/** The shared Redis connection for flow state and locks, with this deployment's key prefix. */
@Injectable()
export class RedisService implements OnModuleInit, OnApplicationShutdown {
  readonly client: Redis;
  readonly prefix: string;

  constructor(config: AppConfig) {
    this.prefix = config.redis.prefix;
    this.client = failFastRedis(config.redis.url.reveal());
  }

  onModuleInit(): Promise<void> {
    return readyOrNot(this.client);
  }

  key(...parts: string[]): string {
    return `${this.prefix}${parts.join(':')}`;
  }

  // Closed in the last shutdown phase: jobs finishing their step in onModuleDestroy still need it.
  async onApplicationShutdown(): Promise<void> {
    await closeRedis(this.client);
  }
}

/** QUIT when connected (replies in flight arrive); a connection that is down is just dropped. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  await client.quit().catch(() => client.disconnect());
}
