import { describe, expect, it } from '@jest/globals';
import type { PrismaService } from '../infra/prisma/prisma.service.js';
import type { RedisService } from '../infra/redis/redis.service.js';
import { HealthService } from './health.service.js';

const answering = (ok: boolean) => async () => {
  if (!ok) throw new Error('down');
  return 1;
};
const service = (database: boolean, redis: boolean) =>
  new HealthService(
    { $queryRaw: answering(database) } as unknown as PrismaService,
    { client: { ping: answering(redis) } } as unknown as RedisService,
  );

describe('readiness', () => {
  it.each([
    [true, true, 'ok'],
    [true, false, 'degraded'],
    [false, true, 'unavailable'],
    [false, false, 'unavailable'],
  ] as const)('database %s, redis %s → %s', async (database, redis, status) => {
    const readiness = await service(database, redis).readiness();
    expect(readiness.status).toBe(status);
    expect(readiness.checks).toEqual({
      database: database ? 'ok' : 'failed',
      redis: redis ? 'ok' : 'failed',
    });
  });

  it('turns shutting_down as soon as shutdown starts, whatever the checks say', async () => {
    const health = service(true, true);
    health.onModuleDestroy();
    expect((await health.readiness()).status).toBe('shutting_down');
  });
});
