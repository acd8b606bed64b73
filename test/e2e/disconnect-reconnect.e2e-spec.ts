import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { countRows, withDb } from '../support/db.js';
import { eventually } from '../support/eventually.js';
import { type Scenario, startScenario } from '../support/scenario.js';

describe('disconnect and reconnect', () => {
  let s: Scenario;
  let key: string;

  beforeAll(async () => {
    s = await startScenario();
    key = await s.cliCreateKey(['--name', 'lifecycle']);
  });

  afterAll(async () => {
    await s?.stop();
  });

  const crm = async (token: string) =>
    (
      await fetch(`${s.sandbox.crm.baseUrl}/v1/contacts`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).status;
  const token = async (id: string) =>
    (await s.api(`/v1/connections/${id}/token`, { key })).body.accessToken as string;

  it('disconnect while the provider is down: credentials gone at once, revocation delivered when it is back', async () => {
    const id = await s.connectOk(key, { tenantId: 'tenant-outage' });
    const accessToken = await token(id);
    const revocations = s.sandbox.auth.counters.revocations;
    await s.sandbox.auth.stop();

    const response = await s.api(`/v1/connections/${id}`, { method: 'DELETE', key });
    expect(response.status).toBe(204);
    expect(await countRows('credentials', 'connection_id = $1', [id])).toBe(0);
    expect(await countRows('pending_revocations', 'connection_id = $1', [id])).toBe(1);
    expect((await s.api(`/v1/connections/${id}/token`, { key })).status).toBe(404);
    expect(await crm(accessToken)).toBe(200); // not revoked yet: the provider is down

    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await s.sandbox.auth.restart();
    await eventually(
      async () =>
        expect(await countRows('pending_revocations', 'connection_id = $1', [id])).toBe(0),
      20_000,
      200,
    );
    expect(s.sandbox.auth.counters.revocations).toBe(revocations + 1);
    expect(await crm(accessToken)).toBe(401);
    // Delivered by the queue, its audit row still names the disconnect's request.
    await eventually(async () => {
      const rows = await withDb(
        async (db) =>
          (
            await db.query(
              "SELECT * FROM audit_events WHERE connection_id = $1 AND action = 'grant.revocation_delivered'",
              [id],
            )
          ).rows,
      );
      expect(rows).toEqual([
        expect.objectContaining({
          request_id: response.headers.get('x-request-id'),
          service_key_id: expect.any(String),
          tenant_id: 'tenant-outage',
        }),
      ]);
    });
  }, 40_000);

  it('a failed reconnect keeps the old, working credentials', async () => {
    const id = await s.connectOk(key, { tenantId: 'tenant-reconnect' });
    const before = await token(id);
    s.sandbox.auth.consent = { accountId: 'acct-ada', deny: true };
    const denied = await s.connect(key, { tenantId: 'tenant-reconnect' });
    s.sandbox.auth.consent = { accountId: 'acct-ada' };
    expect(denied.searchParams.get('error')).toBe('access_denied');
    expect((await s.api(`/v1/connections/${id}`, { key })).body.status).toBe('active');
    expect(await token(id)).toBe(before);
    expect(await crm(before)).toBe(200);
  });

  it('a reconnect of the same account updates the connection in place and revokes the superseded grant', async () => {
    const id = await s.connectOk(key, { tenantId: 'tenant-reconnect-2' });
    const old = await token(id);
    const revocations = s.sandbox.auth.counters.revocations;
    const again = await s.connectOk(key, { tenantId: 'tenant-reconnect-2' });
    expect(again).toBe(id);
    const fresh = await token(id);
    expect(fresh).not.toBe(old);
    expect(s.sandbox.auth.counters.revocations).toBe(revocations + 1);
    expect(await crm(old)).toBe(401);
    expect(await crm(fresh)).toBe(200);
  });

  it('a reconnect after needs_reauth brings the connection back, with a recovery event', async () => {
    const id = await s.connectOk(key, { tenantId: 'tenant-heal' });
    s.clock.advance(2 * 3_600_000);
    s.sandbox.auth.tokenFaults.push({ status: 400, error: 'invalid_grant' });
    expect((await s.api(`/v1/connections/${id}/token`, { key })).status).toBe(409);
    expect(await s.connectOk(key, { tenantId: 'tenant-heal' })).toBe(id);
    expect((await s.api(`/v1/connections/${id}`, { key })).body.status).toBe('active');
    expect(
      await countRows('events', "connection_id = $1 AND type = 'connection.recovered'", [id]),
    ).toBe(1);
    expect(await crm(await token(id))).toBe(200);
  });
});
