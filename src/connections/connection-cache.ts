import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ThrottledLog } from '../common/logging/throttled-log.js';
import { isUuid } from '../common/uuid.js';
import { AppConfig } from '../config/app-config.js';
import { ChannelSubscription, publishOnChannel } from '../infra/redis/redis-channel.js';
import { RedisService } from '../infra/redis/redis.service.js';
import { type SealedConnection, SealedConnectionCache } from './sealed-connection.cache.js';

/** Where connection writes are announced, under the deployment's Redis prefix. */
export function connectionInvalidationsChannel(prefix: string): string {
  return `${prefix}connections:invalidated`;
}

/**
 * The token read's cache of sealed connections, and its invalidation
 * across replicas. Correctness does not rest on the TTL but on three rules:
 *  1. every write to a connection or its credential evicts here and
 *     publishes the id after it commits (the repositories call
 *     `invalidate`), before the write is acknowledged;
 *  2. every replica evicts on the broadcast (milliseconds: the propagation
 *     bound is one Redis pub/sub hop);
 *  3. the cache is used only while this replica's subscription is confirmed
 *     live: while it is down broadcasts could be missed, so reads go to
 *     PostgreSQL, and after a reconnect the cache starts empty.
 * The TTL bounds what is left: a write whose publish failed (the writer
 * could not reach Redis while this replica could).
 */
@Injectable()
export class ConnectionCache implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(ConnectionCache.name);
  private readonly publishLog = new ThrottledLog();
  private readonly cache: SealedConnectionCache;
  private readonly channel: string;
  private readonly configured: boolean;
  private subscription: ChannelSubscription | undefined;

  constructor(
    config: AppConfig,
    private readonly redis: RedisService,
  ) {
    const { size, ttlSeconds } = config.tokens.readCache;
    this.configured = size > 0;
    this.cache = new SealedConnectionCache(size, ttlSeconds * 1000);
    this.channel = connectionInvalidationsChannel(redis.prefix);
  }

  onModuleInit(): void {
    // Disabled by configuration: nothing to listen for (writes still publish, for other replicas).
    if (!this.configured) return;
    this.subscription = new ChannelSubscription(
      this.channel,
      {
        message: (id) => {
          if (isUuid(id)) this.cache.evict(id);
        },
        live: () => this.cache.setEnabled(true),
        down: () => this.cache.setEnabled(false),
      },
      this.logger,
      'connection invalidation channel: Redis unreachable; token reads bypass the cache until it is back',
    );
    this.subscription.start(this.redis.client);
  }

  /** Whether reads are being served from the cache (for tests and health). */
  get live(): boolean {
    return this.cache.active;
  }

  /** What this replica holds for `id`, if anything (diagnostics and tests). */
  peek(id: string): SealedConnection | undefined {
    return this.cache.peek(id);
  }

  /**
   * The cached sealed connection, or `load`'s answer (stored when nothing
   * was invalidated while it ran). With the cache off, just `load`.
   */
  async read(
    id: string,
    load: () => Promise<SealedConnection | undefined>,
  ): Promise<SealedConnection | undefined> {
    const hit = this.cache.get(id);
    if (hit) return hit;
    if (!this.cache.active) return load();
    const ticket = this.cache.ticket();
    const loaded = await load();
    if (loaded) this.cache.put(id, loaded, ticket);
    return loaded;
  }

  /**
   * After a write to the connection or its credential has committed: evicts
   * here at once and tells every other replica. A failed publish does not
   * fail the write (it is stored); other replicas then drop their copy
   * within the TTL.
   */
  async invalidate(id: string): Promise<void> {
    this.cache.evict(id);
    if (await publishOnChannel(this.redis.client, this.channel, id)) return;
    this.publishLog.maybe((suppressed) =>
      this.logger.warn({
        connectionId: id,
        suppressed,
        msg: 'connection invalidation not broadcast (Redis unreachable); other replicas drop their cached copy within TOKEN_CACHE_TTL_SECONDS',
      }),
    );
  }

  onApplicationShutdown(): void {
    this.subscription?.stop();
  }
}
