import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { withDb } from '../support/db.js';
import { type ApiResponse, type Scenario, startScenario } from '../support/scenario.js';

const ALL_SCOPES = [
  'openid',
  'offline_access',
  'email',
  'profile',
  'contacts.read',
  'companies.read',
];
const WITHOUT_COMPANIES = ALL_SCOPES.filter((scope) => scope !== 'companies.read');

/**
 * Issue 12 on the proxy, on real parts (PostgreSQL, Redis, oidc-provider,
 * the sandbox CRM): a provider 401 is a rejected-token report, so a
 * provider refusing every token costs one refresh per cooldown however many
 * calls meet it; a declared route whose scope the grant lacks is refused
 * before anything is sent.
 */
describe('API proxy: the 401 feedback loop and route scopes', () => {
  let s: Scenario;
  let admin: string;
  let key: string;
  let tenant = 0;

  beforeAll(async () => {
    s = await startScenario({
      // Explicit, and longer than this file takes: every check below runs inside one cooldown.
      env: { REFRESH_COOLDOWN_SECONDS: '300' },
      requiredScopes: WITHOUT_COMPANIES,
      proxyRoutes: [
        { pathPrefix: '/v1/companies', methods: ['GET'], scopes: ['companies.read'] },
        { pathPrefix: '/v1/contacts', scopes: [{ anyOf: ['contacts.read', 'contacts.write'] }] },
      ],
    });
    admin = await s.cliCreateKey(['--name', 'admin']);
    key = await s.cliCreateKey(['--name', 'crm-caller', '--action', 'proxy']);
    s.sandbox.crm.seed('contacts', 5);
    s.sandbox.crm.seed('companies', 5);
  });

  afterAll(async () => {
    s.sandbox.crm.rejectAllTokens = false;
    await s?.stop();
  });

  const connect = () => s.connectOk(admin, { tenantId: `tenant-feedback-${(tenant += 1)}` });
  const proxied = (id: string, path: string) => s.api(`/v1/proxy/${id}${path}`, { key });
  const refreshHeader = (answer: ApiResponse) => answer.headers.get('x-token-broker-refresh');

  it('a provider answering 401 to every token: 20 sequential calls make one refresh, each caller gets the 401', async () => {
    const id = await connect();
    expect((await proxied(id, '/v1/contacts')).status).toBe(200);
    const refreshes = s.sandbox.auth.counters.refreshGrants;
    const crmRequests = s.sandbox.crm.counters.requests;
    s.sandbox.crm.rejectAllTokens = true;
    const answers: ApiResponse[] = [];
    try {
      for (let call = 0; call < 20; call += 1) answers.push(await proxied(id, '/v1/contacts'));
    } finally {
      s.sandbox.crm.rejectAllTokens = false;
    }
    expect(s.sandbox.auth.counters.refreshGrants - refreshes).toBe(1);
    for (const answer of answers) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: 'invalid_token' });
    }
    // The first refreshed and retried once; every later one met its fresh token refused again.
    expect(answers.map(refreshHeader)).toEqual(['refreshed', ...Array(19).fill('cooling-down')]);
    expect(s.sandbox.crm.counters.requests - crmRequests).toBe(21);

    // The provider accepts tokens again: the one it refused works, with no refresh.
    const healed = await proxied(id, '/v1/contacts');
    expect(healed.status).toBe(200);
    expect(refreshHeader(healed)).toBeNull();
    expect(s.sandbox.auth.counters.refreshGrants - refreshes).toBe(1);

    // Audited: the proxy call rows say what the broker did about each 401.
    const rows = await withDb(
      async (db) =>
        (
          await db.query(
            "SELECT detail FROM audit_events WHERE action = 'proxy.request' AND connection_id = $1",
            [id],
          )
        ).rows,
    );
    const outcomes = rows.map((r) => r.detail.tokenRefresh).filter(Boolean);
    expect(outcomes.filter((o) => o === 'cooling_down')).toHaveLength(19);
  }, 60_000);

  it('20 concurrent calls, twice: one refresh in all, every caller gets the 401, nothing loops', async () => {
    const id = await connect();
    expect((await proxied(id, '/v1/contacts')).status).toBe(200);
    const refreshes = s.sandbox.auth.counters.refreshGrants;
    const crmRequests = s.sandbox.crm.counters.requests;
    s.sandbox.crm.rejectAllTokens = true;
    let first: ApiResponse[];
    let second: ApiResponse[];
    try {
      const burst = () =>
        Promise.all(Array.from({ length: 20 }, () => proxied(id, '/v1/contacts?limit=2')));
      first = await burst();
      second = await burst();
    } finally {
      s.sandbox.crm.rejectAllTokens = false;
    }
    expect(s.sandbox.auth.counters.refreshGrants - refreshes).toBe(1);
    expect(s.sandbox.auth.counters.refreshTokenReuse).toBe(0);
    for (const answer of [...first, ...second]) {
      expect(answer.status).toBe(401);
      expect(answer.body).toEqual({ error: 'invalid_token' });
    }
    // Each call sent at most twice (the retry with the replacement), never more.
    expect(s.sandbox.crm.counters.requests - crmRequests).toBeLessThanOrEqual(60);
    for (const value of first.map(refreshHeader))
      expect(['refreshed', 'already-replaced', 'cooling-down']).toContain(value);
    expect(first.map(refreshHeader)).toContain('refreshed');
    // The second burst met only the replacement, refused inside the cooldown.
    expect(second.map(refreshHeader)).toEqual(Array(20).fill('cooling-down'));
  }, 60_000);

  it('a declared route whose scope was not granted: 403 insufficient_scope, nothing sent; others pass', async () => {
    s.sandbox.auth.consent = { accountId: 'acct-ada', grantOnly: WITHOUT_COMPANIES };
    let id: string;
    try {
      id = await connect();
    } finally {
      s.sandbox.auth.consent = { accountId: 'acct-ada' };
    }
    const crmRequests = s.sandbox.crm.counters.requests;
    const refused = await proxied(id, '/v1/companies?limit=2');
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('insufficient_scope');
    expect(refused.body.error.message).toContain('companies.read');
    // The same route, spelt so that a looser match would miss it.
    expect((await proxied(id, '/v1/%43ompanies')).body.error?.code).toBe('insufficient_scope');
    expect(s.sandbox.crm.counters.requests).toBe(crmRequests);

    // A declared route whose scope is held, and an undeclared one, go through as before.
    expect((await proxied(id, '/v1/contacts?limit=2')).status).toBe(200);
    const deals = await proxied(id, '/v1/deals');
    expect(deals.status).toBe(200);
    expect(s.sandbox.crm.counters.requests).toBe(crmRequests + 2);

    // A grant with the scope reaches the route.
    const full = await connect();
    expect((await proxied(full, '/v1/companies?limit=2')).status).toBe(200);
  }, 60_000);
});
