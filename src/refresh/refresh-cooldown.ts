import { Injectable } from '@nestjs/common';
import { RedisService } from '../infra/redis/redis.service.js';

/** Per-connection cooldown of forced refreshes, shared by all replicas. */
@Injectable()
export class RefreshCooldown {
  constructor(private readonly redis: RedisService) {}

  /** Starts the cooldown; returns the seconds left when one is already running. */
  async start(connectionId: string, seconds: number): Promise<number | undefined> {
    if (seconds === 0) return undefined;
    const key = this.redis.key('refresh-cooldown', connectionId);
    if ((await this.redis.client.set(key, '1', 'EX', seconds, 'NX')) === 'OK') return undefined;
    return Math.max(1, await this.redis.client.ttl(key));
  }
}
