import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TestBrowser } from '../support/browser.js';
import { countRows, withDb } from '../support/db.js';
import { eventually } from '../support/eventually.js';
import { type Scenario, startScenario } from '../support/scenario.js';

const HOUR_MS = 3_600_000;
const ALL_SCOPES = [
  'openid',
  'offline_access',
  'email',
  'profile',
  'contacts.read',
  'companies.read',
];
const WITHOUT_COMPANIES = ALL_SCOPES.filter((scope) => scope !== 'companies.read');

async function eventsOf(connectionId: string, type: string): Promise<any[]> {
  return withDb(async (db) => {
    const { rows } = await db.query(
      'SELECT payload FROM events WHERE connection_id = $1 AND type = $2 ORDER BY id',
      [connectionId, type],
    );
    return rows.map((r) => r.payload);
  });
}

async function credentialVersion(connectionId: string): Promise<number> {
  return withDb(async (db) => {
    const { rows } = await db.query('SELECT version FROM credentials WHERE connection_id = $1', [
      connectionId,
    ]);
    return rows[0].version as number;
  });
}

/**
 * Issue 12, parts 3 and 4, on real parts: two brokers on one PostgreSQL and
 * Redis, oidc-provider as the authorization server, the sandbox CRM. The
 * companies model needs `companies.read`, which the integration requests
 * but does not require, so a user may leave it out.
 */
describe('scope drift, token/rejected and reconnect links', () => {
  let s: Scenario;
  let key: string;
  let tenant = 0;

  beforeAll(async () => {
    s = await startScenario({
      brokers: 2,
      modelScopes: { contacts: ['contacts.read'], companies: ['companies.read'] },
      requiredScopes: WITHOUT_COMPANIES,
      env: { REFRESH_COOLDOWN_SECONDS: '30' },
    });
    key = await s.cliCreateKey(['--name', 'scopes-feedback']);
  });

  afterAll(async () => {
    await s?.stop();
  });

  const nextTenant = () => `tenant-scopes-${(tenant += 1)}`;
  const token = async (id: string) =>
    (await s.api(`/v1/connections/${id}/token?minValiditySeconds=0`, { key })).body
      .accessToken as string;
  const rejected = (id: string, accessToken: string, broker = 0) =>
    s.api(`/v1/connections/${id}/token/rejected`, {
      method: 'POST',
      key,
      body: { accessToken },
      broker,
    });

  it('50 concurrent reports of one rejected token over two replicas: one refresh, one new token for all', async () => {
    const id = await s.connectOk(key, { tenantId: nextTenant() });
    const old = await token(id);
    const version = await credentialVersion(id);
    const refreshes = s.sandbox.auth.counters.refreshGrants;

    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => rejected(id, old, i % 2)),
    );

    expect(answers.map((a) => a.status).filter((status) => status !== 200)).toEqual([]);
    const tokens = new Set(answers.map((a) => a.body.accessToken));
    expect(tokens.size).toBe(1);
    expect(tokens.has(old)).toBe(false);
    expect(s.sandbox.auth.counters.refreshGrants).toBe(refreshes + 1);
    expect(s.sandbox.auth.counters.refreshTokenReuse).toBe(0);
    expect(await credentialVersion(id)).toBe(version + 1);
    expect(answers[0]!.headers.get('cache-control')).toBe('no-store');
    expect(Object.keys(answers[0]!.body).sort()).toEqual(
      ['accessToken', 'expiresAt', 'extras', 'scopes', 'tokenType'].sort(),
    );
    // Audited like token reads: one committed row per answer, with the new token's fingerprint.
    expect(
      await countRows('audit_events', "connection_id = $1 AND action = 'token.rejected_replaced'", [
        id,
      ]),
    ).toBe(50);

    // A late report of the same (already replaced) token: the current one, no refresh.
    const [replacement] = tokens;
    const late = await rejected(id, old, 1);
    expect(late.status).toBe(200);
    expect(late.body.accessToken).toBe(replacement);
    expect(s.sandbox.auth.counters.refreshGrants).toBe(refreshes + 1);

    // Rejecting the replacement at once would be a second refresh inside the
    // cooldown: refused with Retry-After, nothing sent to the provider.
    const again = await rejected(id, replacement);
    expect(again.status).toBe(429);
    expect(again.body.error.code).toBe('refresh_cooldown');
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(s.sandbox.auth.counters.refreshGrants).toBe(refreshes + 1);
  });

  it('a token that is not the current one (already replaced) refreshes nothing', async () => {
    const id = await s.connectOk(key, { tenantId: nextTenant() });
    const current = await token(id);
    const refreshes = s.sandbox.auth.counters.refreshGrants;
    const answer = await rejected(id, 'a-token-replaced-long-ago');
    expect(answer.status).toBe(200);
    expect(answer.body.accessToken).toBe(current);
    expect(s.sandbox.auth.counters.refreshGrants).toBe(refreshes);
  });

  it('a model whose scope was not granted: missingScopes, its run fails with insufficient_scope and no provider call; a reconnect asking for it fixes both', async () => {
    s.sandbox.auth.consent = { accountId: 'acct-ada', grantOnly: WITHOUT_COMPANIES };
    const tenantId = nextTenant();
    let id: string;
    try {
      id = await s.connectOk(key, { tenantId });
    } finally {
      s.sandbox.auth.consent = { accountId: 'acct-ada' };
    }
    const view = await s.api(`/v1/connections/${id}`, { key });
    expect(view.body.scopes).not.toContain('companies.read');
    expect(view.body.missingScopes).toEqual(['companies.read']);

    const crmRequests = s.sandbox.crm.counters.requests;
    const started = await s.api(`/v1/connections/${id}/syncs`, {
      method: 'POST',
      key,
      body: { model: 'companies' },
    });
    expect(started.status).toBe(202);
    const [runId] = started.body.syncRunIds as string[];
    let run: any;
    await eventually(
      async () => {
        run = (await s.api(`/v1/connections/${id}/syncs`, { key })).body.data.find(
          (r: { id: string }) => r.id === runId,
        );
        expect(run.status).toBe('failed');
      },
      30_000,
      100,
    );
    expect(run.error.code).toBe('insufficient_scope');
    expect(run.executions).toBeLessThanOrEqual(1);
    expect(run.pages).toBe(0);
    expect(s.sandbox.crm.counters.requests).toBe(crmRequests);

    // Incremental consent: a session for this connection asks for what it has and what it misses.
    const landed = await s.connect(key, { tenantId, connectionId: id });
    expect(landed.searchParams.get('connection_id')).toBe(id);
    const after = await s.api(`/v1/connections/${id}`, { key });
    expect(after.body.scopes).toContain('companies.read');
    expect(after.body.missingScopes).toEqual([]);
  });

  it('a refresh that answers fewer scopes emits connection.scope_drift (lost and current scopes)', async () => {
    const id = await s.connectOk(key, { tenantId: nextTenant() });
    s.sandbox.auth.refreshScopesOnly = WITHOUT_COMPANIES;
    try {
      const refreshed = await s.api(`/v1/connections/${id}/refresh`, { method: 'POST', key });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.missingScopes).toEqual(['companies.read']);
    } finally {
      s.sandbox.auth.refreshScopesOnly = undefined;
    }
    const drift = await eventsOf(id, 'connection.scope_drift');
    expect(drift).toHaveLength(1);
    expect(drift[0].lostScopes).toEqual(['companies.read']);
    expect([...drift[0].scopes].sort()).toEqual([...WITHOUT_COMPANIES].sort());
    expect(drift[0].connectionId).toBe(id);
  });

  it('reauth_required carries a reconnect URL: it reconnects the same account once, and refuses another account', async () => {
    const id = await s.connectOk(key, { tenantId: nextTenant() });
    const reauth = async () => {
      s.clock.advance(2 * HOUR_MS);
      s.sandbox.auth.tokenFaults.push({ status: 400, error: 'invalid_grant' });
      const answer = await s.api(`/v1/connections/${id}/token`, { key });
      expect(answer.body.error.code).toBe('needs_reauth');
      const events = await eventsOf(id, 'connection.reauth_required');
      return events.at(-1)!;
    };

    const first = await reauth();
    expect(first.reconnectUrl).toMatch(new RegExp(`^${s.broker.url}/v1/connect\\?session=`));
    const expiresIn = Date.parse(first.reconnectUrlExpiresAt) - s.clock.now().getTime();
    expect(Math.abs(expiresIn - 7 * 24 * HOUR_MS)).toBeLessThan(60_000);
    s.secrets.add(new URL(first.reconnectUrl).searchParams.get('session')!);

    const done = await new TestBrowser().navigate(first.reconnectUrl);
    expect(done.final.status).toBe(200);
    expect(await done.final.text()).toContain(id);
    expect((await s.api(`/v1/connections/${id}`, { key })).body.status).toBe('active');

    // Single use.
    const reused = await new TestBrowser().navigate(first.reconnectUrl);
    expect(reused.final.status).toBe(409);
    expect(await reused.final.text()).toContain('already used');

    // Another account on a fresh link: refused, nothing stored.
    const second = await reauth();
    const version = await credentialVersion(id);
    s.sandbox.auth.consent = { accountId: 'acct-grace' };
    try {
      s.secrets.add(new URL(second.reconnectUrl).searchParams.get('session')!);
      const other = await new TestBrowser().navigate(second.reconnectUrl);
      expect(other.final.status).toBe(400);
      expect(await other.final.text()).toContain('account_mismatch');
    } finally {
      s.sandbox.auth.consent = { accountId: 'acct-ada' };
    }
    expect((await s.api(`/v1/connections/${id}`, { key })).body.status).toBe('needs_reauth');
    expect(await credentialVersion(id)).toBe(version);
    expect(
      await countRows('connections', "integration_key = $1 AND account_id = 'acct-grace'", [
        s.integration,
      ]),
    ).toBe(0);
  });

  it('a reconnect link outliving a disconnect does not bring the connection back', async () => {
    const id = await s.connectOk(key, { tenantId: nextTenant() });
    s.clock.advance(2 * HOUR_MS);
    s.sandbox.auth.tokenFaults.push({ status: 400, error: 'invalid_grant' });
    expect((await s.api(`/v1/connections/${id}/token`, { key })).status).toBe(409);
    const [event] = await eventsOf(id, 'connection.reauth_required');
    s.secrets.add(new URL(event.reconnectUrl).searchParams.get('session')!);
    expect((await s.api(`/v1/connections/${id}`, { method: 'DELETE', key })).status).toBe(204);
    const codeGrants = s.sandbox.auth.counters.authorizationCodeGrants;

    const opened = await new TestBrowser().navigate(event.reconnectUrl);
    expect(opened.final.status).toBe(404);
    expect(s.sandbox.auth.counters.authorizationCodeGrants).toBe(codeGrants);
    expect((await s.api(`/v1/connections/${id}`, { key })).body.status).toBe('revoked');
  });

  it('keeps every token out of the logs of both brokers', () => {
    const secrets = [...s.secrets, ...s.sandbox.auth.issuedSecrets];
    const text = s.logText();
    expect(secrets.filter((secret) => text.includes(secret))).toEqual([]);
  });
});
