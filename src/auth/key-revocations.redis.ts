import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { isUuid } from '../common/uuid.js';
import { ThrottledLog } from '../common/logging/throttled-log.js';
import { RedisService } from '../infra/redis/redis.service.js';
import {
  KeyRevocationsPublisher,
  keyRevocationsChannel,
  publishKeyRevocation,
} from './key-revocations.js';
import { ServiceKeysService } from './service-keys.service.js';

@Injectable()
export class RedisKeyRevocationsPublisher extends KeyRevocationsPublisher {
  constructor(private readonly redis: RedisService) {
    super();
  }

  publish(keyId: string): Promise<boolean> {
    return publishKeyRevocation(this.redis.client, this.redis.prefix, keyId);
  }
}

/**
 * Every HTTP replica listens for revocations and evicts the key from its
 * cache when one arrives (milliseconds after `keys revoke`). A subscriber
 * needs a connection of its own (a subscribed ioredis connection takes no
 * other commands). ioredis reconnects forever and re-subscribes by itself
 * (autoResubscribe); broadcasts sent while this connection was down are
 * lost, so a reconnect forgets every verified key. While Redis is down the
 * cache TTL (30 s) is the bound, and the outage is logged once per 30 s.
 */
@Injectable()
export class KeyRevocationsSubscriber implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger('KeyRevocations');
  private readonly outageLog = new ThrottledLog();
  private subscriber: Redis | undefined;
  private connectedBefore = false;
  private down = false;

  constructor(
    private readonly redis: RedisService,
    private readonly keys: ServiceKeysService,
  ) {}

  onModuleInit(): void {
    const channel = keyRevocationsChannel(this.redis.prefix);
    const subscriber = this.redis.client.duplicate({
      // The SUBSCRIBE waits in the offline queue while Redis is down, rather than failing
      // (the shared client fails fast instead: its callers answer 503).
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      autoResubscribe: true,
      // Reconnect forever, at least once a second: revocations flow again soon after Redis is back.
      retryStrategy: (attempt: number) => Math.min(attempt * 100, 1_000),
    });
    this.subscriber = subscriber;
    subscriber.on('message', (from: string, message: string) => {
      // Key ids are UUIDs; anything else on the channel is ignored.
      if (from === channel && isUuid(message)) this.keys.forget(message);
    });
    subscriber.on('ready', () => this.connected());
    subscriber.on('error', (error: Error) => {
      this.down = true;
      this.outageLog.maybe((suppressed) =>
        this.logger.warn({
          err: { message: error.message },
          suppressed,
          msg: 'revocation channel: Redis unreachable; revoked keys stop working within the cache TTL (30 s) until it is back',
        }),
      );
    });
    subscriber.subscribe(channel).catch(() => undefined);
  }

  private connected(): void {
    if (this.connectedBefore) {
      // Broadcasts sent while we were away are lost: trust nothing cached before.
      this.keys.forgetAll();
      if (this.down) this.logger.log('revocation channel: Redis is back');
    }
    this.connectedBefore = true;
    this.down = false;
  }

  onApplicationShutdown(): void {
    this.subscriber?.disconnect();
  }
}
