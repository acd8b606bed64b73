import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { withDb } from '../support/db.js';
import { type Scenario, startScenario } from '../support/scenario.js';

const HOUR_MS = 3_600_000;

async function credentialVersion(connectionId: string): Promise<number> {
  return withDb(async (db) => {
    const { rows } = await db.query('SELECT version FROM credentials WHERE connection_id = $1', [
      connectionId,
    ]);
    return rows[0].version as number;
  });
}

/**
 * One refresh per connection at a time across replicas, on real parts: three
 * brokers sharing PostgreSQL and Redis, and oidc-provider with refresh-token
 * rotation and reuse detection (a reused refresh token revokes the grant).
 */
describe('single-flight refresh across three broker instances', () => {
  let s: Scenario;
  let key: string;

  beforeAll(async () => {
    // A lock lifetime far below the slow refresh below, to show the database fence at work.
    s = await startScenario({ brokers: 3, env: { REFRESH_LOCK_TTL_MS: '300' } });
    key = await s.cliCreateKey(['--name', 'concurrency']);
  });

  afterAll(async () => {
    await s?.stop();
  });

  it('1,000 concurrent token requests for one expired connection: exactly one refresh, one token for all', async () => {
    const id = await s.connectOk(key, { tenantId: 'tenant-concurrent' });
    const before = (await s.api(`/v1/connections/${id}/token?minValiditySeconds=0`, { key })).body
      .accessToken;
    s.clock.advance(2 * HOUR_MS);
    const refreshes = s.sandbox.auth.counters.refreshGrants;

    const responses = await Promise.all(
      Array.from({ length: 1_000 }, (_, i) =>
        s.api(`/v1/connections/${id}/token`, { key, broker: i % 3 }),
      ),
    );

    expect(responses.map((r) => r.status).filter((status) => status !== 200)).toEqual([]);
    const tokens = new Set(responses.map((r) => r.body.accessToken));
    expect(tokens.size).toBe(1);
    expect(tokens.has(before)).toBe(false);
    expect(s.sandbox.auth.counters.refreshGrants).toBe(refreshes + 1);
    expect(s.sandbox.auth.counters.refreshTokenReuse).toBe(0);
    expect(await credentialVersion(id)).toBe(2);
    const [token] = tokens;
    expect(
      (
        await fetch(`${s.sandbox.crm.baseUrl}/v1/contacts`, {
          headers: { authorization: `Bearer ${token}` },
        })
      ).status,
    ).toBe(200);
  });

  it('a refresh slower than the lock lifetime: the second replica waits for the first, nothing is overwritten, no token is reused', async () => {
    const id = await s.connectOk(key, { tenantId: 'tenant-slow' });
    const version = await credentialVersion(id);
    s.clock.advance(2 * HOUR_MS);
    const refreshes = s.sandbox.auth.counters.refreshGrants;
    // The provider takes 1.5 s to answer the first refresh; the lock lives 0.3 s.
    s.sandbox.auth.tokenFaults.push({ status: 0, delayMs: 1_500 });

    const first = s.api(`/v1/connections/${id}/token`, { key, broker: 0 });
    await new Promise((resolve) => setTimeout(resolve, 600));
    const second = s.api(`/v1/connections/${id}/token`, { key, broker: 1 });
    const third = s.api(`/v1/connections/${id}/token`, { key, broker: 2 });
    const [a, b, c] = await Promise.all([first, second, third]);

    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    expect(b.body.accessToken).toBe(a.body.accessToken);
    expect(c.body.accessToken).toBe(a.body.accessToken);
    expect(s.sandbox.auth.counters.refreshGrants).toBe(refreshes + 1);
    expect(s.sandbox.auth.counters.refreshTokenReuse).toBe(0);
    expect(await credentialVersion(id)).toBe(version + 1);

    // The stored refresh token is the one the provider issued last: the next refresh works.
    s.clock.advance(2 * HOUR_MS);
    const again = await s.api(`/v1/connections/${id}/token`, { key, broker: 2 });
    expect(again.status).toBe(200);
    expect(s.sandbox.auth.counters.refreshGrants).toBe(refreshes + 2);
    expect(s.sandbox.auth.counters.refreshTokenReuse).toBe(0);
  });

  it('keeps every token out of the logs of all three brokers', () => {
    const secrets = [...s.secrets, ...s.sandbox.auth.issuedSecrets];
    const text = s.logText();
    expect(secrets.filter((secret) => text.includes(secret))).toEqual([]);
  });
});
