import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TokenFingerprint } from '../../src/audit/token-fingerprint.js';
import { withDb } from '../support/db.js';
import { eventually } from '../support/eventually.js';
import { TestBrowser } from '../support/browser.js';
import { RETURN_ORIGIN, type Scenario, startScenario } from '../support/scenario.js';

const TENANT = 'tenant-audit-coverage';
const FINGERPRINT = /^[A-Za-z0-9_-]+:[A-Za-z0-9_-]{43}$/;

interface AuditRow {
  id: string;
  action: string;
  connectionId: string | null;
  tenantId: string | null;
  serviceKeyId: string | null;
  requestId: string | null;
  tokenFingerprint: string | null;
  detail: Record<string, unknown> | null;
}

/**
 * Every audited action writes its row: one connection's life through the
 * real connect flow (sandbox authorization server), a token read, a forced
 * refresh, a refresh on read of an expired token, reads refused for another
 * tenant and for a key without the action, and a disconnect with its
 * revocation; then GET /v1/audit shows each with its caller, tenant,
 * connection, request id and the fingerprint of the token involved, and
 * neither the trail nor the log holds a token.
 */
describe('the audit trail covers every audited action', () => {
  let s: Scenario;
  let fingerprint: TokenFingerprint;
  let key: string;
  let stranger: string;
  let manager: string;
  let connectionId: string;
  /** Per step: the request id and token that its rows must name. */
  const steps: Record<string, { requestId: string; token?: string }> = {};

  beforeAll(async () => {
    s = await startScenario();
    fingerprint = s.broker.app.get(TokenFingerprint);
    key = await s.cliCreateKey(['--name', 'audit-coverage', '--tenant', TENANT]);
  });

  afterAll(async () => {
    await s?.stop();
  });

  const keyId = (serviceKey: string) =>
    withDb(async (db) => {
      const { rows } = await db.query<{ id: string }>(
        "SELECT id FROM service_keys WHERE key_hash = encode(sha256($1::bytea), 'hex')",
        [serviceKey],
      );
      return rows[0]!.id;
    });

  const requestIdOf = (response: { headers: Headers }) => {
    const id = response.headers.get('x-request-id');
    expect(id).toEqual(expect.any(String));
    return id!;
  };

  /** The token the broker holds now (read from the token API, which audits the read too). */
  const read = async (step: string) => {
    const response = await s.api(`/v1/connections/${connectionId}/token`, { key });
    expect(response.status).toBe(200);
    steps[step] = { requestId: requestIdOf(response), token: response.body.accessToken };
    return response.body as { accessToken: string };
  };

  it('connects through the sandbox: the callback request creates the connection', async () => {
    const session = await s.createSession(key, { tenantId: TENANT });
    const { hops, url } = await new TestBrowser().navigate(
      session.connectUrl,
      (u) => u.origin === RETURN_ORIGIN,
    );
    connectionId = new URL(url).searchParams.get('connection_id')!;
    expect(connectionId).toMatch(/^[0-9a-f-]{36}$/);
    const callback = hops.find((hop) =>
      new URL(hop.url).pathname.startsWith('/v1/oauth/callback/'),
    );
    expect(callback?.requestId).toEqual(expect.any(String));
    steps.connect = { requestId: callback!.requestId! };
    // The token obtained by the connect: the first read hands out the same one.
    await read('read');
    steps.connect.token = steps.read!.token;
  });

  it('refreshes when forced, and when a read finds the token expired', async () => {
    const forced = await s.api(`/v1/connections/${connectionId}/refresh`, {
      method: 'POST',
      key,
    });
    expect(forced.status).toBe(200);
    const afterForced = await read('readAfterForced');
    expect(afterForced.accessToken).not.toBe(steps.read!.token);
    steps.forced = { requestId: requestIdOf(forced), token: afterForced.accessToken };

    // The broker's clock past the token's hour: the next read refreshes first.
    s.clock.advance(2 * 3_600_000);
    const expiredRead = await read('readExpired');
    expect(expiredRead.accessToken).not.toBe(afterForced.accessToken);
  });

  it('refuses reads for another tenant and for a key without the token action', async () => {
    stranger = await s.cliCreateKey(['--name', 'audit-coverage-other', '--tenant', 'elsewhere']);
    const otherTenant = await s.api(`/v1/connections/${connectionId}/token`, { key: stranger });
    expect(otherTenant.status).toBe(404);
    steps.otherTenant = { requestId: requestIdOf(otherTenant) };

    manager = await s.cliCreateKey([
      '--name',
      'audit-coverage-manage',
      '--tenant',
      TENANT,
      '--action',
      'manage',
    ]);
    const noAction = await s.api(`/v1/connections/${connectionId}/token`, { key: manager });
    expect(noAction.status).toBe(403);
    expect(noAction.body.error.code).toBe('action_not_granted');
    steps.noAction = { requestId: requestIdOf(noAction) };
  });

  it('disconnects, revoking the grant at the provider', async () => {
    const revocations = s.sandbox.auth.counters.revocations;
    const response = await s.api(`/v1/connections/${connectionId}`, { method: 'DELETE', key });
    expect(response.status).toBe(204);
    expect(s.sandbox.auth.counters.revocations).toBe(revocations + 1);
    steps.disconnect = { requestId: requestIdOf(response), token: steps.readExpired!.token };
  });

  it('GET /v1/audit shows a row for each, with caller, tenant, connection, request id and fingerprint', async () => {
    const [owner, strangerId, managerId] = await Promise.all([key, stranger, manager].map(keyId));
    const fp = (step: string) => fingerprint.of(steps[step]!.token!);

    let rows: AuditRow[] = [];
    // Refusals, refreshes and the disconnect are written behind their answers.
    await eventually(async () => {
      const page = await s.api(`/v1/audit?connectionId=${connectionId}&limit=500`, { key });
      expect(page.status).toBe(200);
      rows = page.body.data;
      expect(rows.map((row) => row.action)).toEqual(
        expect.arrayContaining(['grant.revocation_delivered', 'request.refused']),
      );
    });
    const one = (action: string, step: string) => {
      const found = rows.filter(
        (row) => row.action === action && row.requestId === steps[step]!.requestId,
      );
      expect({ action, step, found: found.length }).toEqual({ action, step, found: 1 });
      return found[0]!;
    };
    const base = { connectionId, tenantId: TENANT, serviceKeyId: owner };

    expect(one('connection.created', 'connect')).toMatchObject({
      ...base,
      tokenFingerprint: fp('connect'),
      detail: { sessionId: expect.any(String) },
    });
    expect(one('token.read', 'read')).toMatchObject({
      ...base,
      tokenFingerprint: fp('read'),
      detail: { refreshed: false },
    });
    expect(one('token.refreshed', 'forced')).toMatchObject({
      ...base,
      tokenFingerprint: fp('forced'),
      detail: { trigger: 'forced' },
    });
    expect(one('token.refresh_forced', 'forced')).toMatchObject({
      ...base,
      tokenFingerprint: fp('forced'),
    });
    expect(one('token.refreshed', 'readExpired')).toMatchObject({
      ...base,
      tokenFingerprint: fp('readExpired'),
      detail: { trigger: 'read' },
    });
    expect(one('token.read', 'readExpired')).toMatchObject({
      ...base,
      tokenFingerprint: fp('readExpired'),
      detail: { refreshed: true },
    });
    expect(one('token.read_refused', 'otherTenant')).toMatchObject({
      ...base,
      serviceKeyId: strangerId,
      tokenFingerprint: null,
      detail: { attempted: 'token.read', code: 'connection_not_found' },
    });
    expect(one('request.refused', 'noAction')).toMatchObject({
      ...base,
      serviceKeyId: managerId,
      tokenFingerprint: null,
      detail: { code: 'action_not_granted', action: 'token' },
    });
    expect(one('connection.revoked', 'disconnect')).toMatchObject({
      ...base,
      tokenFingerprint: fp('disconnect'),
    });
    expect(one('grant.revocation_delivered', 'disconnect')).toMatchObject({
      ...base,
      tokenFingerprint: fp('disconnect'),
      detail: { outcome: 'revoked', revoked: 'refresh_token' },
    });
    for (const row of rows.filter((r) => r.tokenFingerprint !== null))
      expect(row.tokenFingerprint).toMatch(FINGERPRINT);
  });

  it('holds no token, in the trail or in the log', async () => {
    const stored = await withDb(
      async (db) =>
        (await db.query('SELECT * FROM audit_events WHERE connection_id = $1', [connectionId]))
          .rows,
    );
    expect(stored.length).toBeGreaterThanOrEqual(10);
    const page = await s.api(`/v1/audit?connectionId=${connectionId}&limit=500`, { key });
    const dump = JSON.stringify([stored, page.body]);
    const secrets = new Set([...s.secrets, ...s.sandbox.auth.issuedSecrets]);
    for (const step of Object.values(steps)) if (step.token) secrets.add(step.token);
    for (const secret of secrets) expect(dump).not.toContain(secret);
    expect(s.broker.logs.leaked(secrets)).toEqual([]);
  });
});
