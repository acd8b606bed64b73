import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Connection } from '../../src/connections/connection.js';
import { CredentialSealer } from '../../src/crypto/credential-sealer.js';
import { PendingCredentialsStore } from '../../src/connections/pending-credentials.store.js';
import type { RedisService } from '../../src/infra/redis/redis.service.js';
import { otherCipher, runCipher, testRedis } from '../support/infra.js';

describe('PendingCredentialsStore on Redis', () => {
  let redis: RedisService;

  beforeAll(async () => {
    redis = await testRedis();
  });

  afterAll(async () => {
    await redis.onApplicationShutdown();
  });

  const connection = () =>
    ({ id: randomUUID(), tenantId: `tenant-${randomUUID()}` }) as unknown as Connection;
  const tokens = {
    accessToken: 'at-pending',
    refreshToken: 'rt-pending',
    tokenType: 'Bearer',
    expiresAt: new Date('2030-01-01T00:00:00Z'),
    scopes: ['contacts.read'],
    extras: {},
  };

  it('hands back, on another replica, the tokens one replica could not store', async () => {
    const c = connection();
    const sealer = new CredentialSealer(await runCipher());
    await new PendingCredentialsStore(redis, sealer).save(c, 3, tokens);
    const elsewhere = new PendingCredentialsStore(redis, sealer);
    expect(await elsewhere.find(c, 3)).toMatchObject({ refreshToken: 'rt-pending' });
    expect(await elsewhere.find(c, 4)).toBeUndefined();
    await elsewhere.clear(c.id);
    expect(await elsewhere.find(c, 3)).toBeUndefined();
  });

  it('drops an entry whose key was removed instead of failing every refresh after it', async () => {
    const c = connection();
    await new PendingCredentialsStore(redis, new CredentialSealer(await runCipher())).save(
      c,
      1,
      tokens,
    );
    const rotated = new PendingCredentialsStore(
      redis,
      new CredentialSealer(await otherCipher('newer')),
    );
    expect(await rotated.find(c, 1)).toBeUndefined();
    expect(await redis.client.exists(redis.key('pending-credentials', c.id))).toBe(0);
  });
});
