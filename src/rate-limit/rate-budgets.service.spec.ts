import { describe, expect, it } from '@jest/globals';
import type { AppConfig } from '../config/app-config.js';
import type { Clock } from '../infra/clock/clock.js';
import { Metrics } from '../infra/metrics/metrics.js';
import type { Integration, IntegrationBudget } from '../integrations/integration.js';
import type { BudgetStore, StoreDecision } from './budget-store.js';
import { budgetExhausted, RateBudgets } from './rate-budgets.service.js';

const config = { providerHttp: { timeoutMs: 30_000 } } as AppConfig;
const clock: Clock = { now: () => new Date('2026-12-05T04:00:00Z') };
const integration = (budget?: IntegrationBudget) => ({ key: 'crm', budget }) as Integration;
const rate = { requests: 10, perSeconds: 1 };

/** A store whose answers the test scripts; every call is recorded. */
function fakeStore(options: {
  take?: () => Promise<StoreDecision>;
  acquire?: () => Promise<{ lease: string } | { retryAfterMs: number }>;
}) {
  const calls: string[] = [];
  const store = {
    take: async () => {
      calls.push('take');
      return options.take ? options.take() : { granted: true, waitMs: 0 };
    },
    learn: async (_key: string, left: number, forMs: number) => {
      calls.push(`learn ${left} ${forMs}`);
    },
    acquire: async () => {
      calls.push('acquire');
      return options.acquire ? options.acquire() : { lease: 'l1' };
    },
    release: async (_key: string, lease: string) => {
      calls.push(`release ${lease}`);
    },
  };
  return { store: store as unknown as BudgetStore, calls };
}

const outcomes = async (metrics: Metrics) =>
  (await metrics.rateBudget.get()).values.map((v) => `${v.labels.outcome}=${v.value}`).sort();

describe('RateBudgets', () => {
  it('an integration without a budget costs no Redis call', async () => {
    const { store, calls } = fakeStore({});
    const budgets = new RateBudgets(store, config, new Metrics(), clock);
    const admission = await budgets.admit('c1', integration(), { waitMs: 1_000 });
    expect(admission.granted).toBe(true);
    await budgets.learn('c1', integration(), 429, new Headers({ 'retry-after': '3' }));
    expect(calls).toEqual([]);
  });

  it('refused: the retry-after of the budget, counted; as an HTTP error, Retry-After in whole seconds', async () => {
    const metrics = new Metrics();
    const { store } = fakeStore({ take: async () => ({ granted: false, retryAfterMs: 1_200 }) });
    const budgets = new RateBudgets(store, config, metrics, clock);
    expect(await budgets.admit('c1', integration({ rate }))).toEqual({
      granted: false,
      retryAfterMs: 1_200,
      reason: 'rate',
    });
    expect(await outcomes(metrics)).toEqual(['refused=1']);
    expect(budgetExhausted(1_200)).toMatchObject({
      code: 'rate_budget_exhausted',
      retryAfterSeconds: 2,
    });
  });

  it('Redis down: requests go through (fail open), counted, no slot to release', async () => {
    const metrics = new Metrics();
    const down = async (): Promise<never> => {
      throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
    };
    const { store } = fakeStore({ take: down, acquire: down });
    const budgets = new RateBudgets(store, config, metrics, clock);
    const admission = await budgets.admit('c1', integration({ rate, maxConcurrency: 2 }));
    expect(admission.granted).toBe(true);
    if (admission.granted) await admission.release();
    expect(await outcomes(metrics)).toEqual(['redis_unavailable=2']);
  });

  it('concurrency: waits for a slot within the wait, then takes from the rate; release frees the lease', async () => {
    const metrics = new Metrics();
    let tries = 0;
    const { store, calls } = fakeStore({
      acquire: async () => ((tries += 1) < 3 ? { retryAfterMs: 5_000 } : { lease: 'l3' }),
    });
    const budgets = new RateBudgets(store, config, metrics, clock);
    const admission = await budgets.admit('c1', integration({ rate, maxConcurrency: 1 }), {
      waitMs: 1_000,
    });
    expect(admission.granted).toBe(true);
    if (admission.granted) await admission.release();
    expect(calls).toEqual(['acquire', 'acquire', 'acquire', 'take', 'release l3']);
    expect(await outcomes(metrics)).toEqual(['concurrency_waited=1', 'granted=1']);
  });

  it('no slot within the wait: refused for concurrency, told to come back within a second', async () => {
    const { store, calls } = fakeStore({ acquire: async () => ({ retryAfterMs: 60_000 }) });
    const budgets = new RateBudgets(store, config, new Metrics(), clock);
    expect(await budgets.admit('c1', integration({ rate, maxConcurrency: 1 }))).toEqual({
      granted: false,
      retryAfterMs: 1_000,
      reason: 'concurrency',
    });
    expect(calls).toEqual(['acquire']);
  });

  it('a rate refusal gives the concurrency slot back', async () => {
    const { store, calls } = fakeStore({
      take: async () => ({ granted: false, retryAfterMs: 300 }),
    });
    const budgets = new RateBudgets(store, config, new Metrics(), clock);
    await budgets.admit('c1', integration({ rate, maxConcurrency: 1 }));
    expect(calls).toEqual(['acquire', 'take', 'release l1']);
  });

  it('learns from answers in the API header style, from a header record too (the proxy)', async () => {
    const { store, calls } = fakeStore({});
    const budgets = new RateBudgets(store, config, new Metrics(), clock);
    const hubspot = integration({ rate: { requests: 100, perSeconds: 10 }, headers: 'hubspot' });
    await budgets.learn('c1', hubspot, 200, {
      'x-hubspot-ratelimit-max': '100',
      'x-hubspot-ratelimit-remaining': '40',
      'x-hubspot-ratelimit-interval-milliseconds': '10000',
    });
    await budgets.learn('c1', hubspot, 429, new Headers({ 'retry-after': '2' }));
    await budgets.learn('c1', hubspot, 200, new Headers());
    expect(calls).toEqual(['learn 30 10000', 'learn 0 2000']);
  });
});
