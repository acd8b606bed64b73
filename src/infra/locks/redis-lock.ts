import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service.js';

/** Deletes the key only if it still holds our owner token. */
const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
/** Extends the key only if it still holds our owner token. */
const EXTEND = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

export interface Lease {
  readonly name: string;
  readonly owner: string;
  /** False when the lease was lost (expired and possibly taken by someone else). */
  extend(ttlMs: number): Promise<boolean>;
  /** Releases only if still ours; never deletes another owner's lock. */
  release(): Promise<void>;
}

/**
 * A Redis lock with an owner token (SET NX PX; compare-and-delete to release
 * and compare-and-extend). It keeps replicas from doing the same work at the
 * same time; it is not what makes that work correct (a lease can expire
 * under a slow owner), so every write it protects is also fenced in the
 * database.
 */
@Injectable()
export class RedisLock {
  constructor(private readonly redis: RedisService) {}

  async tryAcquire(name: string, ttlMs: number): Promise<Lease | undefined> {
    const key = this.redis.key('lock', name);
    const owner = randomUUID();
    const taken = await this.redis.client.set(key, owner, 'PX', ttlMs, 'NX');
    if (taken !== 'OK') return undefined;
    const client = this.redis.client;
    return {
      name,
      owner,
      extend: async (ms) => (await client.eval(EXTEND, 1, key, owner, String(ms))) === 1,
      release: async () => {
        await client.eval(RELEASE, 1, key, owner);
      },
    };
  }

  async isHeld(name: string): Promise<boolean> {
    return (await this.redis.client.exists(this.redis.key('lock', name))) === 1;
  }
}
