import { Injectable } from '@nestjs/common';
import { randomToken, sha256Hex } from '../common/random.js';
import { RedisService } from '../infra/redis/redis.service.js';

/** An operator's browser session for the dashboard: 8 hours, then sign in again. */
export const ADMIN_SESSION_TTL_SECONDS = 8 * 3600;

/**
 * Dashboard sessions in Redis, keyed by a hash of the cookie's token. A
 * session holds the service key's hash, never the key, and the key is
 * checked again on every request, so revoking it ends the session.
 */
@Injectable()
export class AdminSessionsStore {
  constructor(private readonly redis: RedisService) {}

  async open(serviceKeyHash: string): Promise<string> {
    const token = `tbad_${randomToken(32)}`;
    await this.redis.client.set(this.key(token), serviceKeyHash, 'EX', ADMIN_SESSION_TTL_SECONDS);
    return token;
  }

  async serviceKeyHash(token: string): Promise<string | undefined> {
    return (await this.redis.client.get(this.key(token))) ?? undefined;
  }

  async close(token: string): Promise<void> {
    await this.redis.client.del(this.key(token));
  }

  private key(token: string): string {
    return this.redis.key('admin-session', sha256Hex(token));
  }
}
