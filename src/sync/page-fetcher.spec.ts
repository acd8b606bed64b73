import { describe, expect, it } from '@jest/globals';
import { ProviderError } from '../common/errors/app-error.js';
import type { AppConfig } from '../config/app-config.js';
import { RetryLater } from '../infra/queue/job-workers.js';
import type { Integration } from '../integrations/integration.js';
import type { Admission, RateBudgets } from '../rate-limit/rate-budgets.service.js';
import type { TokenService, WorkerTokens } from '../refresh/token.service.js';
import type { SyncAdapter } from './adapters/sync-adapter.js';
import { PageFetcher } from './page-fetcher.js';
import type { ProviderApiClient } from './provider-api.client.js';

const integration = {
  key: 'crm',
  api: { baseUrl: 'https://api.example.com', allowedHosts: [], models: {} },
  budget: { rate: { requests: 10, perSeconds: 1 } },
} as unknown as Integration;
const auth = {
  tokens: { extras: {}, tokenType: 'Bearer', accessToken: 'at' },
} as unknown as WorkerTokens;
const adapter = {
  request: () => ({
    method: 'GET',
    url: new URL('https://api.example.com/v1/things'),
    headers: {},
  }),
  parse: () => ({ records: [] }),
} as unknown as SyncAdapter;
const config = { allowInsecureLoopbackProviders: false } as AppConfig;

function fetcher(admission: Admission, send: ProviderApiClient['send']) {
  const events: string[] = [];
  const budgets = {
    admit: async (_connection: string, _integration: Integration, options: { waitMs?: number }) => {
      events.push(`admit wait ${options.waitMs}`);
      return admission.granted
        ? { ...admission, release: async () => void events.push('release') }
        : admission;
    },
    learn: async (_connection: string, _integration: Integration, status: number) => {
      events.push(`learn ${status}`);
    },
  } as unknown as RateBudgets;
  const api = { send } as unknown as ProviderApiClient;
  const page = new PageFetcher(config, {} as TokenService, api, budgets);
  return {
    events,
    fetch: () => page.fetch('c1', integration, adapter, { done: false } as never, auth),
  };
}

describe('PageFetcher and the rate budget', () => {
  it('refused past its in-process wait: the job goes back to the queue with the budget delay (RetryLater, no attempt spent)', async () => {
    let sent = 0;
    const { events, fetch } = fetcher(
      { granted: false, retryAfterMs: 4_500, reason: 'rate' },
      async () => {
        sent += 1;
        return { status: 200, headers: new Headers(), body: {} };
      },
    );
    const error = await fetch().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryLater);
    expect((error as RetryLater).delayMs).toBe(4_500);
    expect(sent).toBe(0);
    expect(events).toEqual(['admit wait 3000']);
  });

  it('admitted: sends, releases, and learns from the answer, a refused one too', async () => {
    const ok = fetcher(
      { granted: true, waitedMs: 0, release: async () => undefined },
      async (_r, _t, _s, onAnswer) => {
        onAnswer?.(200, new Headers());
        return { status: 200, headers: new Headers(), body: {} };
      },
    );
    await ok.fetch();
    expect(ok.events).toEqual(['admit wait 3000', 'release', 'learn 200']);

    const limited = fetcher(
      { granted: true, waitedMs: 0, release: async () => undefined },
      async (_r, _t, _s, onAnswer) => {
        onAnswer?.(429, new Headers({ 'retry-after': '2' }));
        throw new ProviderError('provider_rate_limited', 'slow down', {
          transient: true,
          retryAfterSeconds: 2,
        });
      },
    );
    await expect(limited.fetch()).rejects.toBeInstanceOf(ProviderError);
    expect(limited.events).toEqual(['admit wait 3000', 'release', 'learn 429']);
  });
});
