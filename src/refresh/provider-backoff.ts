import { Injectable } from '@nestjs/common';
import { RedisService } from '../infra/redis/redis.service.js';

/**
 * A provider's Retry-After for one connection, shared by all replicas: no
 * replica sends that connection's refresh before the provider said it may,
 * however many callers keep asking in the meantime.
 */
@Injectable()
export class ProviderBackoff {
  constructor(private readonly redis: RedisService) {}

  async hold(connectionId: string, seconds: number): Promise<void> {
    if (seconds <= 0) return;
    await this.redis.client.set(this.key(connectionId), '1', 'PX', seconds * 1000);
  }

  /** Milliseconds still to wait; 0 when free to call. */
  async remainingMs(connectionId: string): Promise<number> {
    const ttl = await this.redis.client.pttl(this.key(connectionId));
    return ttl > 0 ? ttl : 0;
  }

  private key(connectionId: string): string {
    return this.redis.key('provider-backoff', connectionId);
  }
}
