import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { countRows, withDb } from '../support/db.js';
import { RedisService } from '../../src/infra/redis/redis.service.js';
import { ConnectionSweepsRepository } from '../../src/connections/connection-sweeps.repository.js';
import { type Scenario, startScenario } from '../support/scenario.js';

const HOUR_MS = 3_600_000;

async function events(connectionId: string): Promise<string[]> {
  return withDb(async (db) => {
    const { rows } = await db.query(
      'SELECT type FROM events WHERE connection_id = $1 ORDER BY id',
      [connectionId],
    );
    return rows.map((r) => r.type as string);
  });
}

async function integrationEvents(integration: string): Promise<string[]> {
  return withDb(async (db) => {
    const { rows } = await db.query(
      "SELECT type FROM events WHERE connection_id IS NULL AND payload->>'integration' = $1 ORDER BY id",
      [integration],
    );
    return rows.map((r) => r.type as string);
  });
}

/** What a refresh failure does to a connection: dead grants end it, transient failures never do. */
describe('refresh failure classification', () => {
  let s: Scenario;
  let key: string;
  let tenant = 0;

  beforeAll(async () => {
    // A short provider timeout, so "the provider times out" takes moments.
    s = await startScenario({ env: { PROVIDER_TIMEOUT_MS: '400' } });
    key = await s.cliCreateKey(['--name', 'failures']);
  });

  afterAll(async () => {
    await s?.stop();
  });

  /** The integration's hold runs out (it is wall-clock time in Redis). */
  async function endHold(integration: string): Promise<void> {
    const redis = s.broker.app.get(RedisService);
    const holds = await redis.client.keys(redis.key('integration-hold', integration, '*'));
    if (holds.length) await redis.client.del(...holds);
  }

  const rejectionsMetric = async () => {
    const text = await fetch(`${s.broker.url}/metrics`).then((r) => r.text());
    const line = text
      .split('\n')
      .find((l) =>
        l.startsWith(`tb_integration_client_rejections_total{integration="${s.integration}"}`),
      );
    return line ? Number(line.split(' ').at(-1)) : 0;
  };

  const dueForRefresh = () =>
    s.broker.app
      .get(ConnectionSweepsRepository)
      .dueForRefresh([s.integration], s.clock.now(), 600, 86_400, 10_000);

  async function expiredConnection(): Promise<string> {
    tenant += 1;
    const id = await s.connectOk(key, { tenantId: `tenant-fail-${tenant}` });
    s.clock.advance(2 * HOUR_MS);
    return id;
  }

  it('the provider answers invalid_grant: needs_reauth after that one request, an event, 409 without asking again', async () => {
    const id = await expiredConnection();
    s.sandbox.auth.tokenFaults.push({ status: 400, error: 'invalid_grant' });
    const hits = s.sandbox.auth.tokenRequests.length;
    const response = await s.api(`/v1/connections/${id}/token`, { key });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('needs_reauth');
    expect(s.sandbox.auth.tokenRequests.length).toBe(hits + 1);
    expect((await s.api(`/v1/connections/${id}`, { key })).body.status).toBe('needs_reauth');
    expect(await events(id)).toEqual(['connection.created', 'connection.reauth_required']);
    const again = await s.api(`/v1/connections/${id}/token`, { key });
    expect(again.status).toBe(409);
    expect(s.sandbox.auth.tokenRequests.length).toBe(hits + 1);
  });

  it.each(['invalid_client', 'unauthorized_client'])(
    'the provider answers %s (the app credentials, not a grant): connections stay active, the integration backs off as a whole, one event, and it recovers with no reconnect',
    async (error) => {
      const a = await expiredConnection();
      const b = await expiredConnection();
      const eventsBefore = await integrationEvents(s.integration);
      const rejectionsBefore = await rejectionsMetric();
      // Rejected for as long as the operator has not fixed the secret.
      s.sandbox.auth.tokenFaults.push(...Array.from({ length: 5 }, () => ({ status: 401, error })));
      const hits = s.sandbox.auth.tokenRequests.length;

      const first = await s.api(`/v1/connections/${a}/token`, { key });
      expect(first.status).toBe(503);
      expect(first.body.error.code).toBe('integration_client_rejected');
      expect(Number(first.headers.get('retry-after'))).toBeGreaterThanOrEqual(29);
      // The other connections wait out the hold without calling the provider.
      for (const id of [a, b, b]) {
        const held = await s.api(`/v1/connections/${id}/token`, { key });
        expect(held.status).toBe(503);
        expect(held.body.error.code).toBe('integration_client_rejected');
      }
      expect(s.sandbox.auth.tokenRequests.length).toBe(hits + 1);
      for (const id of [a, b]) {
        const view = await s.api(`/v1/connections/${id}`, { key });
        expect(view.body.status).toBe('active');
        expect(await events(id)).toEqual(['connection.created']);
      }
      expect((await integrationEvents(s.integration)).slice(eventsBefore.length)).toEqual([
        'integration.client_rejected',
      ]);
      expect(await rejectionsMetric()).toBe(rejectionsBefore + 1);
      expect(s.logText()).toMatch(/rejects this integration client credentials/);

      // The operator fixes the secret; once the hold has run out, one call probes and all recover.
      s.sandbox.auth.tokenFaults.length = 0;
      await endHold(s.integration);
      for (const id of [a, b]) {
        const healed = await s.api(`/v1/connections/${id}/token`, { key });
        expect(healed.status).toBe(200);
      }
      expect((await integrationEvents(s.integration)).slice(eventsBefore.length)).toEqual([
        'integration.client_rejected',
        'integration.recovered',
      ]);
      expect(s.sandbox.auth.counters.refreshTokenReuse).toBe(0);
    },
  );

  it('a failure that is neither dead nor transient cools the connection down: no provider call per request', async () => {
    const id = await expiredConnection();
    s.sandbox.auth.tokenFaults.push({ status: 400, error: 'invalid_scope' });
    const hits = s.sandbox.auth.tokenRequests.length;
    const failed = await s.api(`/v1/connections/${id}/token`, { key });
    expect(failed.status).toBe(502);
    expect(failed.body.error.code).toBe('provider_error');
    for (let i = 0; i < 5; i += 1) {
      const cooling = await s.api(`/v1/connections/${id}/token`, { key });
      expect(cooling.status).toBe(503);
      expect(cooling.body.error.code).toBe('refresh_failing');
      expect(Number(cooling.headers.get('retry-after'))).toBeGreaterThan(50);
    }
    expect(s.sandbox.auth.tokenRequests.length).toBe(hits + 1);
    // The hold is visible on the connection: why, and when the next attempt may happen.
    const held = (await s.api(`/v1/connections/${id}`, { key })).body;
    expect(held).toMatchObject({
      status: 'active',
      refreshFailures: 1,
      lastRefreshError: 'provider_error',
    });
    const retryAt = Date.parse(held.refreshRetryAt);
    expect(retryAt - s.clock.now().getTime()).toBeGreaterThan(50_000);
    expect(Date.parse(held.nextRefreshAt)).toBeGreaterThanOrEqual(retryAt);
    // The proactive sweep leaves it alone too, until the cooldown ends.
    expect(await dueForRefresh()).not.toContain(id);
    s.clock.advance(61_000);
    expect(await dueForRefresh()).toContain(id);
    const healed = await s.api(`/v1/connections/${id}/token`, { key });
    expect(healed.status).toBe(200);
    expect(s.sandbox.auth.tokenRequests.length).toBe(hits + 2);
  });

  it('minValiditySeconds past the token lifetime is clamped and said so: a burst of reads makes one refresh', async () => {
    tenant += 1;
    const id = await s.connectOk(key, { tenantId: `tenant-fail-${tenant}` });
    // Seven minutes on, a 1-hour token has less left than the clamp (54 minutes).
    s.clock.advance(7 * 60_000);
    const hits = s.sandbox.auth.tokenRequests.length;
    const read = () => s.api(`/v1/connections/${id}/token?minValiditySeconds=86400`, { key });
    const burst = [...(await Promise.all([read(), read(), read(), read(), read()]))];
    for (let i = 0; i < 5; i += 1) burst.push(await read());
    for (const answer of burst) {
      expect(answer.status).toBe(200);
      // An hour less a tenth (a token's lifetime is counted in whole seconds).
      expect(Math.abs(answer.body.minValidityClampedTo - 3_240)).toBeLessThanOrEqual(1);
    }
    expect(s.sandbox.auth.tokenRequests.length).toBe(hits + 1);
    // A validity the provider can give is applied as asked, and not flagged.
    const plain = await s.api(`/v1/connections/${id}/token?minValiditySeconds=600`, { key });
    expect(plain.body.minValidityClampedTo).toBeUndefined();
  });

  it('a grant revoked at the provider (a real invalid_grant from oidc-provider) ends as needs_reauth', async () => {
    const id = await expiredConnection();
    await s.sandbox.auth.revokeAllGrants();
    const response = await s.api(`/v1/connections/${id}/token`, { key });
    expect(response.body.error?.code).toBe('needs_reauth');
    expect(s.sandbox.auth.tokenRequests.at(-1)?.status).toBe(400);
  });

  it('a provider that hangs: the caller waits no longer than PROVIDER_TIMEOUT_MS + 5 s, and gets 503 with Retry-After', async () => {
    const id = await expiredConnection();
    // Each answer comes long after the client gave up (PROVIDER_TIMEOUT_MS is 400 here).
    s.sandbox.auth.tokenFaults.push(
      ...Array.from({ length: 10 }, () => ({ status: 503, delayMs: 3_000 })),
    );
    const started = Date.now();
    const response = await s.api(`/v1/connections/${id}/token`, { key });
    const waited = Date.now() - started;
    process.stdout.write(`token read against a hanging provider: ${waited} ms\n`);
    expect(response.status).toBe(503);
    expect(response.body.error.code).toBe('provider_timeout');
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(waited).toBeLessThan(400 + 5_000 + 1_000);
    s.sandbox.auth.tokenFaults.length = 0;
    expect((await s.api(`/v1/connections/${id}`, { key })).body.status).toBe('active');
  });

  it('20 transient failures in a row (503, 429 with Retry-After, timeouts): stays active, honours Retry-After, heals', async () => {
    const id = await expiredConnection();
    const faults = Array.from({ length: 20 }, (_, i) => {
      if (i % 4 === 0) return { status: 429, retryAfter: '1' };
      if (i % 4 === 1) return { status: 503 };
      if (i % 4 === 2) return { status: 503, delayMs: 600 }; // answers after the client gave up
      return { status: 503, retryAfter: new Date(Date.now() + 1_000).toUTCString() };
    });
    s.sandbox.auth.tokenFaults.push(...faults);
    const firstHit = s.sandbox.auth.tokenRequests.length;

    // Callers keep asking, as a service would; each request makes a few attempts.
    let healed: Awaited<ReturnType<Scenario['api']>> | undefined;
    for (let i = 0; i < 40 && !healed; i += 1) {
      const response = await s.api(`/v1/connections/${id}/token`, { key });
      if (response.status === 200) {
        healed = response;
        break;
      }
      expect(response.status).toBe(503);
      expect(response.body.error.code).toMatch(/^provider_/);
      // Every 503 says when to come back.
      expect(Number(response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const view = await s.api(`/v1/connections/${id}`, { key });
      expect(view.body.status).toBe('active');
      expect(view.body.refreshFailures).toBeGreaterThan(0);
    }
    expect(healed?.status).toBe(200);
    expect(s.sandbox.auth.tokenFaults).toHaveLength(0);
    expect(s.sandbox.auth.counters.refreshTokenReuse).toBe(0);
    const view = await s.api(`/v1/connections/${id}`, { key });
    expect(view.body).toMatchObject({
      status: 'active',
      refreshFailures: 0,
      lastRefreshError: null,
    });
    expect(await events(id)).toEqual(['connection.created', 'connection.recovered']);

    // Every retry that followed a Retry-After waited at least that long.
    const hits = s.sandbox.auth.tokenRequests.slice(firstHit);
    for (let i = 0; i + 1 < hits.length; i += 1) {
      const retryAfter = hits[i]!.retryAfter;
      if (!retryAfter) continue;
      const asked = /^\d+$/.test(retryAfter)
        ? Number(retryAfter) * 1000
        : Date.parse(retryAfter) - hits[i]!.at;
      expect(hits[i + 1]!.at - hits[i]!.at).toBeGreaterThanOrEqual(Math.min(asked, 1_000) - 50);
    }
  }, 90_000);

  it('a database failure right after the provider answered: 503, never the unstored token, and the next request stores it', async () => {
    const id = await expiredConnection();
    const refreshes = s.sandbox.auth.counters.refreshGrants;
    // A real failure of PostgreSQL, on this connection's credential row only.
    await withDb((db) =>
      db.query(`
        CREATE OR REPLACE FUNCTION tb_test_fail_write() RETURNS trigger AS $$
        BEGIN RAISE EXCEPTION 'injected write failure'; END $$ LANGUAGE plpgsql;
        CREATE TRIGGER tb_test_fail_${id.replaceAll('-', '')} BEFORE UPDATE OF ciphertext ON credentials
          FOR EACH ROW WHEN (NEW.connection_id = '${id}') EXECUTE FUNCTION tb_test_fail_write();`),
    );
    const issuedBefore = new Set(s.sandbox.auth.issuedSecrets);
    const failed = await s.api(`/v1/connections/${id}/token`, { key });
    await withDb((db) =>
      db.query(`DROP TRIGGER tb_test_fail_${id.replaceAll('-', '')} ON credentials`),
    );

    expect(failed.status).toBe(503);
    expect(failed.body.error.code).toBe('credentials_write_failed');
    expect(failed.headers.get('retry-after')).toBe('1');
    const issuedNow = [...s.sandbox.auth.issuedSecrets].filter((t) => !issuedBefore.has(t));
    expect(issuedNow.length).toBeGreaterThan(0);
    for (const token of issuedNow) expect(JSON.stringify(failed.body)).not.toContain(token);
    expect(s.sandbox.auth.counters.refreshGrants).toBe(refreshes + 1);

    const retried = await s.api(`/v1/connections/${id}/token`, { key });
    expect(retried.status).toBe(200);
    // The tokens of the first refresh, stored now; the rotated refresh token was not sent again.
    expect(issuedNow).toContain(retried.body.accessToken);
    expect(s.sandbox.auth.counters.refreshGrants).toBe(refreshes + 1);
    expect(s.sandbox.auth.counters.refreshTokenReuse).toBe(0);
  });

  it('a forced refresh works once, then answers 429 refresh_cooldown with Retry-After', async () => {
    tenant += 1;
    const id = await s.connectOk(key, { tenantId: `tenant-fail-${tenant}` });
    const before = (await s.api(`/v1/connections/${id}/token?minValiditySeconds=0`, { key })).body
      .accessToken;
    const forced = await s.api(`/v1/connections/${id}/refresh`, { method: 'POST', key });
    expect(forced.status).toBe(200);
    expect(forced.body.id).toBe(id);
    const after = (await s.api(`/v1/connections/${id}/token?minValiditySeconds=0`, { key })).body
      .accessToken;
    expect(after).not.toBe(before);
    const again = await s.api(`/v1/connections/${id}/refresh`, { method: 'POST', key });
    expect(again.status).toBe(429);
    expect(again.body.error.code).toBe('refresh_cooldown');
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('writes no secret to the log', async () => {
    const secrets = [...s.secrets, ...s.sandbox.auth.issuedSecrets];
    const text = s.logText();
    expect(secrets.filter((secret) => text.includes(secret))).toEqual([]);
    expect(await countRows('events', "type = 'connection.reauth_required'")).toBeGreaterThanOrEqual(
      2,
    );
  });
});
