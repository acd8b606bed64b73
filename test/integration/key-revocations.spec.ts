import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Logger, type LoggerService } from '@nestjs/common';
import { Redis } from 'ioredis';
import { publishKeyRevocation } from '../../src/auth/key-revocations.js';
import { KeyRevocationsSubscriber } from '../../src/auth/key-revocations.redis.js';
import type { ServiceKeysService } from '../../src/auth/service-keys.service.js';
import type { RedisService } from '../../src/infra/redis/redis.service.js';
import {
  type PrivateRedis,
  removePrivateRedis,
  startPrivateRedis,
} from '../support/private-redis.js';

const PREFIX = 'tb-test-revocations:';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function within<T>(ms: number, probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`not within ${ms} ms`);
    await sleep(10);
  }
}

/** The subscriber on a private redis-server that this test stops and starts again. */
describe('the revocation subscriber', () => {
  let server: PrivateRedis;
  let shared: Redis;
  let subscriber: KeyRevocationsSubscriber;
  const forgotten: string[] = [];
  let forgotAll = 0;
  const warnings: unknown[] = [];

  beforeAll(async () => {
    server = await startPrivateRedis();
    const quiet: LoggerService = {
      log: () => undefined,
      error: () => undefined,
      warn: (message: unknown) => void warnings.push(message),
    };
    Logger.overrideLogger(quiet);
    // Like RedisService's client: fails fast while Redis is down.
    shared = new Redis(server.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    shared.on('error', () => undefined);
    const keys = {
      forget: (id: string) => void forgotten.push(id),
      forgetAll: () => void (forgotAll += 1),
    } as unknown as ServiceKeysService;
    subscriber = new KeyRevocationsSubscriber(
      { client: shared, prefix: PREFIX } as unknown as RedisService,
      keys,
    );
    subscriber.onModuleInit();
  });

  afterAll(async () => {
    subscriber?.onApplicationShutdown();
    await shared?.quit().catch(() => shared.disconnect());
    Logger.overrideLogger(false);
    await removePrivateRedis(server);
  });

  const publish = (id: string) => publishKeyRevocation(server.client, PREFIX, id);

  it('evicts a key when its revocation is broadcast, and ignores anything that is not a key id', async () => {
    const id = '11111111-2222-4333-8444-555555555555';
    // Published until seen: the first may go out before the SUBSCRIBE reached the server.
    await within(2_000, () => (forgotten.length ? true : (void publish(id), undefined)));
    expect(forgotten).toContain(id);
    await publish('not a key id');
    await sleep(100);
    expect(forgotten.every((value) => value === id)).toBe(true);
  });

  it('survives Redis going away (one warning, no crash), then resubscribes and forgets what it may have missed', async () => {
    await server.stop();
    await sleep(3_000);
    expect(warnings.length).toBeLessThanOrEqual(1);
    await server.restart();
    await within(5_000, () => (forgotAll > 0 ? true : undefined));
    const started = Date.now();
    const id = '66666666-7777-4888-8999-aaaaaaaaaaaa';
    await within(2_000, () => (forgotten.includes(id) ? true : (void publish(id), undefined)));
    expect(Date.now() - started).toBeLessThan(1_000);
  });
});
