import { describe, expect, it, jest } from '@jest/globals';
import { ProviderError } from '../common/errors/app-error.js';
import { Secret } from '../common/secret.js';
import { Metrics } from '../infra/metrics/metrics.js';
import type { RedisService } from '../infra/redis/redis.service.js';
import type { Integration } from '../integrations/integration.js';
import type { IntegrationEventsRepository } from './integration-events.repository.js';
import { IntegrationHealth } from './integration-health.service.js';
import { RefreshHeldError } from './refresh-held.error.js';

const integration = {
  key: 'crm',
  clientId: 'id',
  clientSecret: new Secret('secret'),
  tokenUrl: 'https://auth.example.com/token',
} as Integration;
const rejection = new ProviderError('client_rejected', 'x', {
  transient: false,
  providerStatus: 401,
  providerError: 'invalid_client',
});

/** Redis that is down: every command (and every transaction) fails, as ioredis's do. */
function downRedis(): RedisService {
  const fail = () => Promise.reject(new Error('ECONNREFUSED'));
  const transaction: Record<string, unknown> = new Proxy(
    {},
    { get: (_t, name) => (name === 'exec' ? fail : () => transaction) },
  );
  const client = new Proxy(
    {},
    { get: (_t, name) => (name === 'multi' ? () => transaction : fail) },
  );
  return { client, key: (...parts: string[]) => parts.join(':') } as unknown as RedisService;
}

describe('IntegrationHealth with Redis down', () => {
  it('never turns an answered refresh into a failure: a rejection is still a 503, a success is quiet', async () => {
    const events = { record: jest.fn() } as unknown as IntegrationEventsRepository;
    const health = new IntegrationHealth(downRedis(), events, new Metrics());
    const held = await health.rejected(integration, rejection, false);
    expect(held).toBeInstanceOf(RefreshHeldError);
    expect(held).toMatchObject({ code: 'integration_client_rejected', retryAfterSeconds: 30 });
    await expect(health.accepted(integration)).resolves.toBeUndefined();
  });
});
