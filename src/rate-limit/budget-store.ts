import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import { RedisService } from '../infra/redis/redis.service.js';
import type { SlidingWindow } from './budget-policy.js';

/** Redis time in ms: every process reads the same clock, whatever its own says. */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * A sliding log of send times (KEYS[1], a sorted set) and what the provider
 * last said remains (KEYS[2]: `left` until `until`). The request goes at the
 * earliest time that keeps every window at most ARGV[1] requests (after the
 * one `limit` places back has left the window, never before the latest slot
 * given out) and, while the provider said nothing is left, not before
 * `until`. Within ARGV[3] ms the slot is reserved and its wait returned;
 * beyond it, nothing is taken and the wait is the refusal's retry-after.
 */
const TAKE = `${NOW}
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local maxWait = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local at = now
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local nth = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
  local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
  at = math.max(now, tonumber(nth[2]) + window, tonumber(last[2]))
end
local learned = redis.call('HMGET', KEYS[2], 'left', 'until')
local left = tonumber(learned[1])
local untilMs = tonumber(learned[2])
if left and untilMs and untilMs > at and left <= 0 then at = untilMs end
if at - now > maxWait then return {0, at - now} end
redis.call('ZADD', KEYS[1], at, ARGV[4])
redis.call('PEXPIRE', KEYS[1], at - now + window + 1000)
if left and untilMs and untilMs > at then redis.call('HINCRBY', KEYS[2], 'left', -1) end
return {1, at - now}`;

/** What an answer said remains: ARGV[1] more requests for ARGV[2] ms. */
const LEARN = `${NOW}
redis.call('HSET', KEYS[1], 'left', ARGV[1], 'until', now + tonumber(ARGV[2]))
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
return 1`;

/**
 * A counting semaphore of leases (member → expiry): a lease of a process
 * that died expires by itself instead of holding its slot forever.
 * Refused: the ms until the earliest lease would expire.
 */
const ACQUIRE = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
  return {1, 0}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(first[2]) - now}`;

export type StoreDecision =
  { granted: true; waitMs: number } | { granted: false; retryAfterMs: number };

/** The budgets' Redis side: one atomic script per decision, keys under REDIS_PREFIX, all with a TTL. */
@Injectable()
export class BudgetStore {
  constructor(private readonly redis: RedisService) {}

  async take(budgetKey: string, window: SlidingWindow, maxWaitMs: number): Promise<StoreDecision> {
    const [granted, ms] = (await this.redis.client.eval(
      TAKE,
      2,
      this.redis.key('budget', budgetKey, 'log'),
      this.redis.key('budget', budgetKey, 'learned'),
      String(window.limit),
      String(window.windowMs),
      String(Math.max(0, Math.floor(maxWaitMs))),
      randomUUID(),
    )) as [number, number];
    return granted === 1 ? { granted: true, waitMs: ms } : { granted: false, retryAfterMs: ms };
  }

  async learn(budgetKey: string, left: number, forMs: number): Promise<void> {
    await this.redis.client.eval(
      LEARN,
      1,
      this.redis.key('budget', budgetKey, 'learned'),
      String(left),
      String(Math.ceil(forMs)),
    );
  }

  /** A lease id, or how long until a slot may free up. */
  async acquire(
    budgetKey: string,
    max: number,
    leaseMs: number,
  ): Promise<{ lease: string } | { retryAfterMs: number }> {
    const lease = randomUUID();
    const [granted, ms] = (await this.redis.client.eval(
      ACQUIRE,
      1,
      this.redis.key('budget', budgetKey, 'slots'),
      String(max),
      String(leaseMs),
      lease,
    )) as [number, number];
    return granted === 1 ? { lease } : { retryAfterMs: Math.max(0, ms) };
  }

  async release(budgetKey: string, lease: string): Promise<void> {
    await this.redis.client.zrem(this.redis.key('budget', budgetKey, 'slots'), lease);
  }
}
