import { randomBytes } from 'node:crypto';
import { Secret } from '../../src/common/secret.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { parseEncryptionKeys } from '../../src/config/encryption-keys.js';
import { TokenCipher } from '../../src/crypto/token-cipher.js';
import { PrismaService } from '../../src/infra/prisma/prisma.service.js';
import { RedisService } from '../../src/infra/redis/redis.service.js';
import { testEnv } from './test-env.js';

/** Real PostgreSQL and Redis clients on the run's database and key prefix, without Nest. */
export function testPrisma(): PrismaService {
  return new PrismaService({ databaseUrl: new Secret(testEnv().databaseUrl) });
}

/** Connected before it is handed out: its commands do not wait for a connection (no offline queue). */
export async function testRedis(): Promise<RedisService> {
  const { redisUrl, redisPrefix } = testEnv();
  const redis = new RedisService({
    redis: { url: new Secret(redisUrl), prefix: redisPrefix },
  } as AppConfig);
  await redis.onModuleInit();
  return redis;
}

export function runCipher(): Promise<TokenCipher> {
  return TokenCipher.create(parseEncryptionKeys(testEnv().encryptionKeys));
}

export function otherCipher(keyId: string): Promise<TokenCipher> {
  return TokenCipher.create(parseEncryptionKeys(`${keyId}:${randomBytes(32).toString('base64')}`));
}
