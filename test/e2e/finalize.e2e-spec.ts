import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PendingGrantsSweep } from '../../src/parked-grants/pending-grants.sweep.js';
import { countRows } from '../support/db.js';
import { eventually } from '../support/eventually.js';
import { type Scenario, startScenario } from '../support/scenario.js';

/**
 * requireFinalize, the default: the callback parks the grant; only the app's
 * backend, which knows the logged-in user, turns it into a connection. The
 * integration here does not mention requireFinalize at all.
 */
describe('connect with requireFinalize (the default)', () => {
  let s: Scenario;
  let key: string;
  let tenant = 0;

  beforeAll(async () => {
    s = await startScenario({ requireFinalize: 'default' });
    key = await s.cliCreateKey(['--name', 'finalize']);
  });

  afterAll(async () => {
    await s?.stop();
  });

  /** Runs the browser part; returns what the app's return URL received. */
  const parkedGrant = async (endUserId = 'user-1', tenantId?: string) => {
    if (!tenantId) {
      tenant += 1;
      tenantId = `tenant-finalize-${tenant}`;
    }
    const landed = await s.connect(key, { tenantId, endUserId });
    const token = landed.searchParams.get('finalize');
    const sessionId = landed.searchParams.get('connect_session_id');
    expect(landed.searchParams.get('error')).toBeNull();
    expect(landed.searchParams.get('connection_id')).toBeNull();
    expect(token).toMatch(/^tbfz_/);
    s.secrets.add(token!);
    return { tenantId, token: token!, sessionId: sessionId! };
  };
  const finalize = (sessionId: string, body: unknown, serviceKey = key) =>
    s.api(`/v1/connect-sessions/${sessionId}/finalize`, { method: 'POST', key: serviceKey, body });
  const crm = async (token: string) =>
    (
      await fetch(`${s.sandbox.crm.baseUrl}/v1/contacts`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).status;

  it('is on for an integration that does not mention it', async () => {
    const list = await s.api('/v1/integrations', { key });
    expect(list.body.data).toContainEqual(
      expect.objectContaining({ key: s.integration, requireFinalize: true }),
    );
  });

  it('a connect session for it must name its end user', async () => {
    const response = await s.api('/v1/connect-sessions', {
      method: 'POST',
      key,
      body: { integration: s.integration, tenantId: 'tenant-finalize-x' },
    });
    expect(response.status).toBe(400);
    expect(response.body.error.code).toBe('end_user_required');
  });

  it('the session status says awaiting_finalize, then completed', async () => {
    const { token, sessionId } = await parkedGrant();
    const before = await s.api(`/v1/connect-sessions/${sessionId}`, { key });
    expect(before.body.status).toBe('awaiting_finalize');
    expect(JSON.stringify(before.body)).not.toContain(token);
    const done = await finalize(sessionId, { finalizeToken: token, endUserId: 'user-1' });
    expect(done.status).toBe(200);
    const after = await s.api(`/v1/connect-sessions/${sessionId}`, { key });
    expect(after.body).toMatchObject({ status: 'completed', connectionId: done.body.connectionId });
  });

  it('the callback stores no connection; finalize by the same end user makes it active, once', async () => {
    const { tenantId, token, sessionId } = await parkedGrant();
    expect(await countRows('connections', 'tenant_id = $1', [tenantId])).toBe(0);
    expect(await countRows('pending_grants', 'id = $1', [sessionId])).toBe(1);

    const response = await finalize(sessionId, { finalizeToken: token, endUserId: 'user-1' });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ connectionId: expect.any(String), status: 'active' });
    const id = response.body.connectionId;
    const connection = (await s.api(`/v1/connections/${id}`, { key })).body;
    expect(connection).toMatchObject({ status: 'active', tenantId });
    const accessToken = (await s.api(`/v1/connections/${id}/token`, { key })).body.accessToken;
    expect(await crm(accessToken)).toBe(200);
    expect(await countRows('pending_grants', 'id = $1', [sessionId])).toBe(0);
    expect(
      await countRows('events', "connection_id = $1 AND type = 'connection.created'", [id]),
    ).toBe(1);

    const again = await finalize(sessionId, { finalizeToken: token, endUserId: 'user-1' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('nothing_to_finalize');
  });

  it('another end user: 403, the grant revoked at the provider, no connection', async () => {
    const { tenantId, token, sessionId } = await parkedGrant('user-1');
    const revocations = s.sandbox.auth.counters.revocations;
    const response = await finalize(sessionId, { finalizeToken: token, endUserId: 'mallory' });
    expect(response.status).toBe(403);
    expect(response.body.error.code).toBe('end_user_mismatch');
    expect(s.sandbox.auth.counters.revocations).toBe(revocations + 1);
    expect(await countRows('connections', 'tenant_id = $1', [tenantId])).toBe(0);
    expect(await countRows('pending_grants', 'id = $1', [sessionId])).toBe(0);
    expect(await countRows('pending_revocations', 'connection_id = $1', [sessionId])).toBe(0);
    await eventually(async () =>
      expect(
        await countRows(
          'audit_events',
          "action = 'connect.finalize_refused' AND tenant_id = $1 AND detail->>'reason' = 'end_user_mismatch'",
          [tenantId],
        ),
      ).toBe(1),
    );
    const retry = await finalize(sessionId, { finalizeToken: token, endUserId: 'user-1' });
    expect(retry.status).toBe(409);
  });

  it('a wrong finalize token changes nothing; the right one still works', async () => {
    const { token, sessionId } = await parkedGrant();
    const wrong = await finalize(sessionId, { finalizeToken: `${token}x`, endUserId: 'mallory' });
    expect(wrong.status).toBe(403);
    expect(wrong.body.error.code).toBe('finalize_token_invalid');
    expect(await countRows('pending_grants', 'id = $1', [sessionId])).toBe(1);
    const right = await finalize(sessionId, { finalizeToken: token, endUserId: 'user-1' });
    expect(right.status).toBe(200);
  });

  it('bad requests: unknown, malformed or another tenant’s session, unknown fields', async () => {
    const { token, sessionId } = await parkedGrant();
    const cases: Array<[string, unknown, number, string]> = [
      [
        '00000000-0000-4000-8000-000000000000',
        { finalizeToken: token, endUserId: 'user-1' },
        404,
        'connect_session_not_found',
      ],
      [
        'not-a-uuid',
        { finalizeToken: token, endUserId: 'user-1' },
        404,
        'connect_session_not_found',
      ],
      [sessionId, { finalizeToken: token }, 400, 'invalid_request'],
      [sessionId, { finalizeToken: token, endUserId: 'user-1', extra: 1 }, 400, 'unknown_field'],
    ];
    for (const [id, body, status, code] of cases) {
      const response = await finalize(id, body);
      expect([id, response.status, response.body.error?.code]).toEqual([id, status, code]);
    }
    const otherTenant = await s.cliCreateKey(['--name', 'other', '--tenant', 'someone-else']);
    const hidden = await finalize(
      sessionId,
      { finalizeToken: token, endUserId: 'user-1' },
      otherTenant,
    );
    expect(hidden.status).toBe(404);
    const noKey = await s.api(`/v1/connect-sessions/${sessionId}/finalize`, {
      method: 'POST',
      body: { finalizeToken: token, endUserId: 'user-1' },
    });
    expect(noKey.status).toBe(401);
    expect(await countRows('pending_grants', 'id = $1', [sessionId])).toBe(1);
    expect((await finalize(sessionId, { finalizeToken: token, endUserId: 'user-1' })).status).toBe(
      200,
    );
  });

  it('not finalized in time: 410 at finalize, and the sweep revokes the ones nobody asks about', async () => {
    const late = await parkedGrant();
    const forgotten = await parkedGrant();
    const revocations = s.sandbox.auth.counters.revocations;
    s.clock.advance(11 * 60_000);

    const response = await finalize(late.sessionId, {
      finalizeToken: late.token,
      endUserId: 'user-1',
    });
    expect(response.status).toBe(410);
    expect(response.body.error.code).toBe('finalize_expired');
    expect(s.sandbox.auth.counters.revocations).toBe(revocations + 1);

    expect(await s.broker.app.get(PendingGrantsSweep).sweep()).toBeGreaterThanOrEqual(1);
    expect(await countRows('pending_grants', 'id = $1', [forgotten.sessionId])).toBe(0);
    await eventually(
      async () => {
        expect(
          await countRows('pending_revocations', 'connection_id = $1', [forgotten.sessionId]),
        ).toBe(0);
        expect(s.sandbox.auth.counters.revocations).toBe(revocations + 2);
      },
      20_000,
      100,
    );
  });

  it('a reconnect leaves the working connection alone until it is finalized', async () => {
    const first = await parkedGrant();
    const id = (
      await finalize(first.sessionId, { finalizeToken: first.token, endUserId: 'user-1' })
    ).body.connectionId;
    const before = (await s.api(`/v1/connections/${id}/token`, { key })).body.accessToken;

    const second = await parkedGrant('user-1', first.tenantId);
    expect((await s.api(`/v1/connections/${id}/token`, { key })).body.accessToken).toBe(before);
    expect(await crm(before)).toBe(200);

    const response = await finalize(second.sessionId, {
      finalizeToken: second.token,
      endUserId: 'user-1',
    });
    expect(response.body.connectionId).toBe(id);
    const after = (await s.api(`/v1/connections/${id}/token`, { key })).body.accessToken;
    expect(after).not.toBe(before);
    expect(await crm(after)).toBe(200);
  });

  it('never logs a finalize token, or any other secret', () => {
    const logs = s.logText();
    expect(logs).toContain('finalize refused');
    for (const secret of s.secrets) expect(logs).not.toContain(secret);
    for (const secret of s.sandbox.auth.issuedSecrets) expect(logs).not.toContain(secret);
  });
});
