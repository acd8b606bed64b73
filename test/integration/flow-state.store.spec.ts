import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomToken, sha256Hex } from '../../src/common/random.js';
import { type FlowState, FlowStateStore } from '../../src/connect/flow-state.store.js';
import type { RedisService } from '../../src/infra/redis/redis.service.js';
import { testRedis } from '../support/infra.js';

const flow: FlowState = {
  sessionId: 's-1',
  tenantId: 't-1',
  integrationKey: 'crm',
  scopes: ['openid'],
  codeVerifier: 'verifier-secret',
  bindingHash: 'hash',
};

describe('FlowStateStore on Redis', () => {
  let redis: RedisService;
  let store: FlowStateStore;

  beforeAll(async () => {
    redis = await testRedis();
    store = new FlowStateStore(redis);
  });

  afterAll(async () => {
    await redis.onApplicationShutdown();
  });

  it('a state is consumed exactly once, even by concurrent callbacks', async () => {
    const state = randomToken();
    await store.save(state, flow, 60);
    const results = await Promise.all(Array.from({ length: 20 }, () => store.consume(state)));
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await store.consume(state)).toBeUndefined();
  });

  it('stores under a hash of the state, with a TTL, and never the state itself', async () => {
    const state = randomToken();
    await store.save(state, flow, 60);
    const keys = await redis.client.keys(`${redis.prefix}flow:*`);
    expect(keys.some((k) => k.includes(state))).toBe(false);
    const ttl = await redis.client.ttl(redis.key('flow', sha256Hex(state)));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60);
    await store.consume(state);
  });
});
