import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { AppConfig } from '../config/app-config.js';
import { RedisService } from '../infra/redis/redis.service.js';

/**
 * Takes a slot when fewer than ARGV[1] unexpired ones are held. Slots are
 * members of a sorted set scored by their expiry (Redis's own clock, so
 * replicas with skewed clocks agree), so a crashed holder's slot frees
 * itself after ARGV[2] ms.
 */
const TAKE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

export interface Slot {
  release(): Promise<void>;
}

/**
 * A counting semaphore per integration in Redis, shared by every worker:
 * at most REFRESH_INTEGRATION_CONCURRENCY proactive refreshes of one
 * integration talk to its provider at once, however many workers and
 * however large the backlog.
 *
 * Why a semaphore and not BullMQ's own tools: the queue's rate limiter and
 * global concurrency act on the whole refresh queue, so one busy provider
 * would slow every other; a queue per integration would need a worker per
 * integration in every process and a registry of queues that changes with
 * the integrations file. A slot per integration caps exactly what a
 * provider feels and costs one Redis call per refresh.
 */
@Injectable()
export class IntegrationSlots {
  constructor(
    private readonly redis: RedisService,
    private readonly config: AppConfig,
  ) {}

  /** A slot, or undefined when the integration's slots are all taken. */
  async tryTake(integrationKey: string): Promise<Slot | undefined> {
    const key = this.redis.key('refresh-slots', integrationKey);
    const owner = randomUUID();
    // A refresh holding the lock is bounded by the lock's lifetime; so is its slot.
    const ttlMs = this.config.tokens.lockTtlMs;
    const limit = this.config.refreshSweep.integrationConcurrency;
    const taken = await this.redis.client.eval(TAKE, 1, key, String(limit), String(ttlMs), owner);
    if (taken !== 1) return undefined;
    const client = this.redis.client;
    return {
      release: async () => {
        await client.zrem(key, owner);
      },
    };
  }
}
