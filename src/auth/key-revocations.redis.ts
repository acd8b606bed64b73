import { Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { isUuid } from '../common/uuid.js';
import { ChannelSubscription } from '../infra/redis/redis-channel.js';
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
 * cache when one arrives (milliseconds after `keys revoke`). Broadcasts sent
 * while the subscriber was disconnected are lost, so a reconnect forgets
 * every verified key; while Redis is down the cache TTL (30 s) is the bound.
 * The connection's life (reconnect, resubscribe, outage log) is
 * ChannelSubscription's.
 */
@Injectable()
export class KeyRevocationsSubscriber implements OnModuleInit, OnApplicationShutdown {
  private subscription: ChannelSubscription | undefined;

  constructor(
    private readonly redis: RedisService,
    private readonly keys: ServiceKeysService,
  ) {}

  onModuleInit(): void {
    this.subscription = new ChannelSubscription(
      keyRevocationsChannel(this.redis.prefix),
      {
        // Key ids are UUIDs; anything else on the channel is ignored.
        message: (message) => {
          if (isUuid(message)) this.keys.forget(message);
        },
        live: (afterOutage) => {
          // Broadcasts sent while we were away are lost: trust nothing cached before.
          if (afterOutage) this.keys.forgetAll();
        },
        down: () => undefined,
      },
      new Logger('KeyRevocations'),
      'revocation channel: Redis unreachable; revoked keys stop working within the cache TTL (30 s) until it is back',
    );
    this.subscription.start(this.redis.client);
  }

  onApplicationShutdown(): void {
    this.subscription?.stop();
  }
}
