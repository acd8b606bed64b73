import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { evictionPolicyWarning } from '../../src/infra/redis/eviction-policy.check.js';
import {
  type PrivateRedis,
  removePrivateRedis,
  startPrivateRedis,
} from '../support/private-redis.js';

/** On a private redis-server (never the shared one), whose policy this test may change. */
describe('Redis eviction policy check', () => {
  let server: PrivateRedis;
  let redis: Redis;

  beforeAll(async () => {
    server = await startPrivateRedis();
    redis = server.client;
  });

  afterAll(async () => {
    await removePrivateRedis(server);
  });
  it('says nothing for noeviction, warns for an evicting policy, naming the fix', async () => {
    await redis.config('SET', 'maxmemory-policy', 'noeviction');
    expect(await evictionPolicyWarning(redis)).toBeUndefined();
    await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
    expect(await evictionPolicyWarning(redis)).toMatch(
      /maxmemory-policy is "allkeys-lru": BullMQ needs "noeviction".*CONFIG SET maxmemory-policy noeviction/,
    );
  });

  it('stays quiet when Redis cannot answer (down, or CONFIG disabled)', async () => {
    const closed = new Redis({
      port: 1,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    closed.on('error', () => undefined);
    expect(await evictionPolicyWarning(closed)).toBeUndefined();
    closed.disconnect();
  });
});
