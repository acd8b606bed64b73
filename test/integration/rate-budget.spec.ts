import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { RedisService } from '../../src/infra/redis/redis.service.js';
import { slidingWindow } from '../../src/rate-limit/budget-policy.js';
import { BudgetStore } from '../../src/rate-limit/budget-store.js';
import { RateBudgets } from '../../src/rate-limit/rate-budgets.service.js';
import type { AppConfig } from '../../src/config/app-config.js';
import type { Integration } from '../../src/integrations/integration.js';
import { Metrics } from '../../src/infra/metrics/metrics.js';
import { SystemClock } from '../../src/infra/clock/clock.js';
import { testRedis } from '../support/infra.js';
import { busiestWindow } from '../support/provider-edge.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('rate budgets on Redis (Lua)', () => {
  let clients: RedisService[];
  let stores: BudgetStore[];

  beforeAll(async () => {
    // Three connections, as three broker processes would have.
    clients = await Promise.all([testRedis(), testRedis(), testRedis()]);
    stores = clients.map((client) => new BudgetStore(client));
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.onApplicationShutdown()));
  });

  it('30 takers on 3 clients, 10 per second for 3 s: no 1-s window ever holds more than 10', async () => {
    const key = randomUUID();
    const window = slidingWindow({ requests: 10, perSeconds: 1 });
    const sent: number[] = [];
    const until = Date.now() + 3_000;
    await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const store = stores[i % stores.length]!;
        while (Date.now() < until) {
          const decision = await store.take(key, window, 2_000);
          if (!decision.granted) {
            await sleep(decision.retryAfterMs);
            continue;
          }
          await sleep(decision.waitMs);
          sent.push(Date.now());
        }
      }),
    );
    expect(busiestWindow(sent, 1_000)).toBeLessThanOrEqual(10);
    // The budget is used, not just respected: about 10 a second (less the arrival guard).
    expect(sent.length).toBeGreaterThanOrEqual(28);
  });

  it('without waiting, exactly the budget is granted at once; the rest learn when to come back', async () => {
    const key = randomUUID();
    const window = slidingWindow({ requests: 10, perSeconds: 1 });
    const decisions = await Promise.all(
      Array.from({ length: 50 }, (_, i) => stores[i % 3]!.take(key, window, 0)),
    );
    expect(decisions.filter((d) => d.granted)).toHaveLength(10);
    for (const refused of decisions.filter((d) => !d.granted)) {
      expect(refused.retryAfterMs).toBeGreaterThan(900);
      expect(refused.retryAfterMs).toBeLessThanOrEqual(window.windowMs);
    }
  });

  it('what a provider said remains lowers the budget until its window resets', async () => {
    const key = randomUUID();
    const window = slidingWindow({ requests: 100, perSeconds: 1 });
    await stores[0]!.learn(key, 2, 800);
    const decisions = [];
    for (let i = 0; i < 4; i += 1) decisions.push(await stores[i % 3]!.take(key, window, 0));
    expect(decisions.map((d) => d.granted)).toEqual([true, true, false, false]);
    const refused = decisions[2]!;
    expect(!refused.granted && refused.retryAfterMs).toBeGreaterThan(600);
    await sleep(850);
    expect((await stores[1]!.take(key, window, 0)).granted).toBe(true);
  });

  it('concurrency cap: at most N leases; a release frees a slot; a lease of a crashed holder expires', async () => {
    const key = randomUUID();
    const leases = await Promise.all(
      Array.from({ length: 6 }, (_, i) => stores[i % 3]!.acquire(key, 2, 300)),
    );
    const held = leases.filter((l): l is { lease: string } => 'lease' in l);
    expect(held).toHaveLength(2);
    const refused = leases.find((l) => 'retryAfterMs' in l) as { retryAfterMs: number };
    expect(refused.retryAfterMs).toBeLessThanOrEqual(300);

    await stores[2]!.release(key, held[0]!.lease);
    expect('lease' in (await stores[0]!.acquire(key, 2, 300))).toBe(true);
    expect('lease' in (await stores[1]!.acquire(key, 2, 300))).toBe(false);
    // Nobody releases: the holders "crashed". Their leases expire and the slots come back.
    await sleep(350);
    const after = await Promise.all([
      stores[0]!.acquire(key, 2, 300),
      stores[1]!.acquire(key, 2, 300),
    ]);
    expect(after.every((l) => 'lease' in l)).toBe(true);
  });

  it('HubSpot answers near its limit slow the broker down before a 429, for every process', async () => {
    const connection = randomUUID();
    const hubspot = {
      key: 'hubspot',
      budget: { rate: { requests: 100, perSeconds: 10 }, headers: 'hubspot' },
    } as Integration;
    const config = { providerHttp: { timeoutMs: 30_000 } } as AppConfig;
    const [a, b] = [0, 1].map(
      (i) => new RateBudgets(stores[i]!, config, new Metrics(), new SystemClock()),
    );
    expect((await a!.take(connection, hubspot)).granted).toBe(true);
    // Another app used the portal: 12 of 100 left in the rolling 10 s. A tenth is kept back: 2 more, then a pause.
    await a!.learn(connection, hubspot, 200, {
      'x-hubspot-ratelimit-max': '100',
      'x-hubspot-ratelimit-remaining': '12',
      'x-hubspot-ratelimit-interval-milliseconds': '10000',
    });
    const decisions = [await b!.take(connection, hubspot), await b!.take(connection, hubspot)];
    expect(decisions.every((d) => d.granted)).toBe(true);
    const third = await b!.take(connection, hubspot);
    expect(third.granted).toBe(false);
    // Nearly nothing left: paused for the time a few requests take to age out of the window.
    await a!.learn(connection, hubspot, 200, {
      'x-hubspot-ratelimit-max': '100',
      'x-hubspot-ratelimit-remaining': '9',
      'x-hubspot-ratelimit-interval-milliseconds': '10000',
    });
    const paused = await b!.take(connection, hubspot);
    expect(paused.granted).toBe(false);
    expect(!paused.granted && paused.retryAfterMs).toBeGreaterThan(100);
    expect(!paused.granted && paused.retryAfterMs).toBeLessThanOrEqual(200);
  });

  it('keys live under the prefix and expire', async () => {
    const key = randomUUID();
    await stores[0]!.take(key, slidingWindow({ requests: 5, perSeconds: 2 }), 0);
    await stores[0]!.learn(key, 3, 1_000);
    await stores[0]!.acquire(key, 1, 1_000);
    const client = clients[0]!;
    for (const part of ['log', 'learned', 'slots']) {
      const ttl = await client.client.pttl(client.key('budget', key, part));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(3_100);
    }
  });
});
