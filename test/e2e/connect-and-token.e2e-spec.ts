import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { countRows, withDb } from '../support/db.js';
import { eventually } from '../support/eventually.js';
import { RETURN_URL, type Scenario, startScenario } from '../support/scenario.js';

/**
 * The walking skeleton, end to end on real parts: PostgreSQL, Redis, the
 * oidc-provider authorization server and the sandbox CRM, all on loopback.
 */
describe('connect → callback → encrypted tokens → token API → refresh → disconnect', () => {
  let s: Scenario;
  let key: string;
  let connectionId: string;
  let firstToken: string;

  beforeAll(async () => {
    s = await startScenario({ accessTokenTtlSeconds: 2 });
    key = await s.cliCreateKey(['--name', 'billing-sync', '--tenant', 'tenant-a']);
  });

  afterAll(async () => {
    await s?.stop();
  });

  const crm = async (token: string) =>
    (
      await fetch(`${s.sandbox.crm.baseUrl}/v1/contacts?limit=5`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).status;

  it('the CLI prints a service key once, and only its hash is stored', async () => {
    expect(key).toMatch(/^tbk_[A-Za-z0-9_-]{43}$/);
    expect(
      await countRows('service_keys', 'key_hash = encode(sha256($1::bytea), $2)', [key, 'hex']),
    ).toBe(1);
    await withDb(async (db) => {
      const { rows } = await db.query('SELECT * FROM service_keys');
      expect(JSON.stringify(rows)).not.toContain(key);
    });
  });

  it('connects through consent and lands on the return URL with a connection id', async () => {
    const landed = await s.connect(key);
    expect(landed.href.startsWith(RETURN_URL)).toBe(true);
    expect(landed.searchParams.get('error')).toBeNull();
    connectionId = landed.searchParams.get('connection_id')!;
    expect(connectionId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('shows the connection active, with the granted scopes and the external account', async () => {
    const { status, body } = await s.api(`/v1/connections/${connectionId}`, { key });
    expect(status).toBe(200);
    expect(body).toMatchObject({
      id: connectionId,
      tenantId: 'tenant-a',
      integration: s.integration,
      provider: 'oidc',
      status: 'active',
      account: { id: 'acct-ada', email: 'ada@example.test', name: 'Ada Lovelace' },
    });
    expect(body.scopes).toEqual(
      expect.arrayContaining(['openid', 'offline_access', 'contacts.read']),
    );
    expect(JSON.stringify(body)).not.toMatch(/token/i);
  });

  it('stores the credentials encrypted: no token appears in any column', async () => {
    await withDb(async (db) => {
      const { rows } = await db.query(
        'SELECT key_id, encode(ciphertext, $1) AS hex, version FROM credentials WHERE connection_id = $2',
        ['hex', connectionId],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].key_id).toBe(s.broker.config.encryptionKeys[0]!.id);
      const stored = Buffer.from(rows[0].hex, 'hex').toString('latin1');
      for (const secret of s.sandbox.auth.issuedSecrets) expect(stored).not.toContain(secret);
      const everything = await db.query(
        'SELECT c.*, cr.* FROM connections c JOIN credentials cr ON cr.connection_id = c.id',
      );
      const dump = JSON.stringify(everything.rows);
      for (const secret of s.sandbox.auth.issuedSecrets) expect(dump).not.toContain(secret);
    });
  });

  it('returns an access token the sandbox CRM accepts', async () => {
    const response = await s.api(`/v1/connections/${connectionId}/token?minValiditySeconds=0`, {
      key,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(response.body).sort()).toEqual([
      'accessToken',
      'expiresAt',
      'extras',
      'scopes',
      'tokenType',
    ]);
    expect(response.body.tokenType).toBe('Bearer');
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    // The next read is answered from the cached credential's sealed answer (TokenAnswers): the same.
    const again = await s.api(`/v1/connections/${connectionId}/token?minValiditySeconds=0`, {
      key,
    });
    expect(again.body).toEqual(response.body);
    firstToken = response.body.accessToken;
    expect(s.sandbox.auth.issuedSecrets.has(firstToken)).toBe(true);
    expect(await crm(firstToken)).toBe(200);
  });

  it('after the token expires, refreshes once and returns a new token the CRM accepts', async () => {
    await new Promise((resolve) => setTimeout(resolve, 2_300));
    expect(await crm(firstToken)).toBe(401);
    const refreshesBefore = s.sandbox.auth.counters.refreshGrants;
    const response = await s.api(`/v1/connections/${connectionId}/token`, { key });
    expect(response.status).toBe(200);
    const renewed = response.body.accessToken;
    expect(renewed).not.toBe(firstToken);
    expect(await crm(renewed)).toBe(200);
    expect(s.sandbox.auth.counters.refreshGrants).toBe(refreshesBefore + 1);
    const { body } = await s.api(`/v1/connections/${connectionId}`, { key });
    expect(new Date(body.lastRefreshedAt).getTime()).toBeGreaterThan(Date.now() - 10_000);
  });

  it('writes an audit row for every token read, without the token', async () => {
    // Audit rows are written behind the response; they land within moments.
    await eventually(async () => {
      const reads = await countRows(
        'audit_events',
        "connection_id = $1 AND action = 'token.read'",
        [connectionId],
      );
      expect(reads).toBe(3);
    });
    await withDb(async (db) => {
      const { rows } = await db.query(
        "SELECT * FROM audit_events WHERE connection_id = $1 AND action = 'token.read' ORDER BY id",
        [connectionId],
      );
      expect(rows.length).toBe(3);
      expect(rows.map((r) => r.detail.refreshed)).toEqual([false, false, true]);
      expect(rows[0].service_key_id).toMatch(/^[0-9a-f-]{36}$/);
      // The second read came from the sealed answer: the same token, so the same fingerprint.
      expect(rows[1].token_fingerprint).toBe(rows[0].token_fingerprint);
      expect(rows[2].token_fingerprint).not.toBe(rows[0].token_fingerprint);
      const dump = JSON.stringify(rows);
      for (const secret of s.sandbox.auth.issuedSecrets) expect(dump).not.toContain(secret);
    });
  });

  it('disconnects: revoked at the sandbox, credentials gone, token endpoint answers 404', async () => {
    const current = (await s.api(`/v1/connections/${connectionId}/token`, { key })).body
      .accessToken;
    const revocationsBefore = s.sandbox.auth.counters.revocations;
    const response = await s.api(`/v1/connections/${connectionId}`, { method: 'DELETE', key });
    expect(response.status).toBe(204);
    expect(s.sandbox.auth.counters.revocations).toBe(revocationsBefore + 1);
    expect(await crm(current)).toBe(401);
    expect(await countRows('credentials', 'connection_id = $1', [connectionId])).toBe(0);
    const token = await s.api(`/v1/connections/${connectionId}/token`, { key });
    expect(token.status).toBe(404);
    expect(token.body.error.code).toBe('connection_revoked');
    const { body } = await s.api(`/v1/connections/${connectionId}`, { key });
    expect(body.status).toBe('revoked');
  });

  it('reconnecting the same account reuses the connection', async () => {
    const again = await s.connect(key);
    expect(again.searchParams.get('connection_id')).toBe(connectionId);
    const { body } = await s.api(`/v1/connections/${connectionId}`, { key });
    expect(body.status).toBe('active');
    expect(await countRows('connections', 'tenant_id = $1', ['tenant-a'])).toBe(1);
  });

  it("lists connections with the caller's tenants only", async () => {
    const other = await s.cliCreateKey(['--name', 'other', '--tenant', 'tenant-b']);
    await s.connect(other, { tenantId: 'tenant-b' });
    const mine = await s.api('/v1/connections?limit=10', { key });
    expect(mine.status).toBe(200);
    expect(mine.body.data.map((c: { tenantId: string }) => c.tenantId)).toEqual(['tenant-a']);
    const theirs = await s.api('/v1/connections', { key: other });
    expect(theirs.body.data.map((c: { tenantId: string }) => c.tenantId)).toEqual(['tenant-b']);
  });

  it('exposes Prometheus metrics without secrets or tenant ids', async () => {
    const response = await fetch(`${s.broker.url}/metrics`);
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text).toMatch(
      /tb_http_request_duration_seconds_count\{method="GET",route="\/v1\/connections\/:id\/token",status="200"\} \d+/,
    );
    expect(text).toMatch(
      /tb_token_refreshes_total\{integration="[^"]+",outcome="refreshed"\} [1-9]/,
    );
    expect(text).not.toContain('tenant-a');
    for (const secret of [...s.secrets, ...s.sandbox.auth.issuedSecrets])
      expect(text).not.toContain(secret);
  });

  it('logs failed requests, not successful token reads or probes (the audit and metrics have those)', async () => {
    const requestLines = () =>
      s.broker.logs.lines
        .map((line) => JSON.parse(line) as { msg?: string; route?: string; status?: number })
        .filter((line) => line.msg === 'request');
    const before = requestLines().length;
    expect((await s.api(`/v1/connections/${connectionId}/token`, { key })).status).toBe(200);
    expect((await fetch(`${s.broker.url}/health/live`)).status).toBe(200);
    expect((await s.api(`/v1/connections/${connectionId}`, { key })).status).toBe(200);
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await s.api(`/v1/connections/${missing}/token`, { key })).status).toBe(404);
    const logged = requestLines()
      .slice(before)
      .map((line) => `${line.route} ${line.status}`);
    expect(logged).toEqual(['/v1/connections/:id 200', '/v1/connections/:id/token 404']);
  });

  it('never writes a token, code, key or client secret to the log', () => {
    const secrets = new Set([...s.secrets, ...s.sandbox.auth.issuedSecrets]);
    expect(secrets.size).toBeGreaterThan(8);
    expect(s.broker.logs.lines.length).toBeGreaterThan(10);
    expect(s.broker.logs.leaked(secrets)).toEqual([]);
  });
});
