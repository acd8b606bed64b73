import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RedisLock } from '../../src/infra/locks/redis-lock.js';
import type { RedisService } from '../../src/infra/redis/redis.service.js';
import { testRedis } from '../support/infra.js';

describe('RedisLock on Redis', () => {
  let redis: RedisService;
  let lock: RedisLock;

  beforeAll(async () => {
    redis = await testRedis();
    lock = new RedisLock(redis);
  });

  afterAll(async () => {
    await redis.onApplicationShutdown();
  });

  it('one holder at a time; released by its owner, then free', async () => {
    const name = randomUUID();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => lock.tryAcquire(name, 5_000)),
    );
    const holders = results.filter((lease) => lease !== undefined);
    expect(holders).toHaveLength(1);
    await holders[0]!.release();
    expect(await lock.isHeld(name)).toBe(false);
    expect(await lock.tryAcquire(name, 5_000)).toBeDefined();
  });

  it("an expired owner can neither release nor extend the next owner's lock", async () => {
    const name = randomUUID();
    const first = (await lock.tryAcquire(name, 100))!;
    await new Promise((resolve) => setTimeout(resolve, 150));
    const second = (await lock.tryAcquire(name, 5_000))!;
    expect(second).toBeDefined();
    await first.release();
    expect(await first.extend(5_000)).toBe(false);
    expect(await lock.isHeld(name)).toBe(true);
    expect(await second.extend(10_000)).toBe(true);
    expect(await redis.client.pttl(redis.key('lock', name))).toBeGreaterThan(5_000);
    await second.release();
    expect(await lock.isHeld(name)).toBe(false);
  });
});
