import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RefreshSweep } from '../../src/refresh/refresh.sweep.js';
import { eventually } from '../support/eventually.js';
import { type Scenario, startScenario } from '../support/scenario.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;

/** The sweep and the refresh jobs on BullMQ, with the broker's clock moved by the test. */
describe('proactive refresh', () => {
  let s: Scenario;
  let key: string;
  let sweep: RefreshSweep;

  beforeAll(async () => {
    s = await startScenario();
    key = await s.cliCreateKey(['--name', 'proactive']);
    sweep = s.broker.app.get(RefreshSweep);
  });

  afterAll(async () => {
    await s?.stop();
  });

  const view = async (id: string) => (await s.api(`/v1/connections/${id}`, { key })).body;

  it('refreshes a connection before it expires, once per expiry', async () => {
    const id = await s.connectOk(key, { tenantId: 'tenant-proactive' });
    const first = await view(id);
    // One-hour tokens and a ten-minute margin: due fifty minutes in.
    expect(new Date(first.nextRefreshAt).getTime()).toBe(
      new Date(first.expiresAt).getTime() - 10 * MINUTE_MS,
    );
    const refreshes = s.sandbox.auth.counters.refreshGrants;

    s.clock.advance(45 * MINUTE_MS);
    await sweep.sweep();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(s.sandbox.auth.counters.refreshGrants).toBe(refreshes);

    s.clock.advance(6 * MINUTE_MS);
    // Sweeps on several replicas at once queue one job.
    await Promise.all([sweep.sweep(), sweep.sweep(), sweep.sweep()]);
    await eventually(async () =>
      expect((await view(id)).lastRefreshedAt).not.toBe(first.lastRefreshedAt),
    );
    expect(s.sandbox.auth.counters.refreshGrants).toBe(refreshes + 1);
    const after = await view(id);
    expect(new Date(after.expiresAt).getTime()).toBeGreaterThan(
      s.clock.now().getTime() + 50 * MINUTE_MS,
    );
    expect(after.status).toBe('active');

    for (let i = 0; i < 3; i += 1) expect(await sweep.sweep()).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(s.sandbox.auth.counters.refreshGrants).toBe(refreshes + 1);
    // The token was still valid: callers were never made to wait for a refresh.
    expect(new Date(first.expiresAt).getTime()).toBeGreaterThan(s.clock.now().getTime());
  });

  it('keeps an idle grant alive: refreshed once it has not been for 24 h, not before', async () => {
    s.sandbox.auth.accessTokenTtlSeconds = 30 * 24 * 3600;
    const id = await s.connectOk(key, { tenantId: 'tenant-idle' });
    const connectedAt = (await view(id)).lastRefreshedAt;

    s.clock.advance(23 * HOUR_MS);
    await sweep.sweep();
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await view(id)).lastRefreshedAt).toBe(connectedAt);

    s.clock.advance(2 * HOUR_MS);
    await sweep.sweep();
    await eventually(async () => expect((await view(id)).lastRefreshedAt).not.toBe(connectedAt));
    s.sandbox.auth.accessTokenTtlSeconds = 3600;
  });

  it("a job honours the provider's Retry-After, then succeeds", async () => {
    const id = await s.connectOk(key, { tenantId: 'tenant-retry-after' });
    const before = (await view(id)).lastRefreshedAt;
    s.sandbox.auth.tokenFaults.push({ status: 429, retryAfter: '1' });
    const hit = s.sandbox.auth.tokenRequests.length;
    s.clock.advance(55 * MINUTE_MS);
    await sweep.sweep();
    await eventually(async () => expect((await view(id)).lastRefreshedAt).not.toBe(before), 8_000);
    const [limited, retried] = s.sandbox.auth.tokenRequests
      .slice(hit)
      .filter((r) => r.status !== 0);
    expect(limited?.status).toBe(429);
    expect(retried!.at - limited!.at).toBeGreaterThanOrEqual(950);
    expect((await view(id)).status).toBe('active');
  });
});
