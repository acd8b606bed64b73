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

  /**
   * The same cooldown, started on behalf of one rejected token (`tag`, its
   * fingerprint): callers reporting that same token join the refresh it
   * started instead of being turned away, and anything else (another
   * token, a forced refresh) waits as for `start`. Seconds left, or
   * undefined when the caller may go on.
   */
  async startOrJoin(
    connectionId: string,
    seconds: number,
    tag: string,
  ): Promise<number | undefined> {
    if (seconds === 0) return undefined;
    const key = this.redis.key('refresh-cooldown', connectionId);
    // Twice at most: the cooldown may end between the SET and the GET.
    for (let tries = 0; tries < 2; tries += 1) {
      if ((await this.redis.client.set(key, tag, 'EX', seconds, 'NX')) === 'OK') return undefined;
      const holder = await this.redis.client.get(key);
      if (holder === tag) return undefined;
      if (holder !== null) return Math.max(1, await this.redis.client.ttl(key));
    }
    return 1;
  }
}
