import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RedisService } from '../../src/infra/redis/redis.service.js';
import { RefreshCooldown } from '../../src/refresh/refresh-cooldown.js';
import { testRedis } from '../support/infra.js';

describe('RefreshCooldown on Redis', () => {
  let redis: RedisService;
  let cooldown: RefreshCooldown;

  beforeAll(async () => {
    redis = await testRedis();
    cooldown = new RefreshCooldown(redis);
  });

  afterAll(async () => {
    await redis.onApplicationShutdown();
  });

  it('reporters of one rejected token all go on; another token or a forced refresh waits', async () => {
    const connection = randomUUID();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => cooldown.startOrJoin(connection, 30, 'fp-a')),
    );
    expect(answers).toEqual(Array.from({ length: 20 }, () => undefined));
    const other = await cooldown.startOrJoin(connection, 30, 'fp-b');
    expect(other).toBeGreaterThan(0);
    expect(other).toBeLessThanOrEqual(30);
    expect(await cooldown.start(connection, 30)).toBeGreaterThan(0);
  });

  it('a forced refresh holds off rejected-token refreshes too', async () => {
    const connection = randomUUID();
    expect(await cooldown.start(connection, 30)).toBeUndefined();
    expect(await cooldown.startOrJoin(connection, 30, 'fp-a')).toBeGreaterThan(0);
  });

  it('no cooldown configured: always go on', async () => {
    const connection = randomUUID();
    expect(await cooldown.startOrJoin(connection, 0, 'fp-a')).toBeUndefined();
    expect(await cooldown.startOrJoin(connection, 0, 'fp-b')).toBeUndefined();
  });
});
