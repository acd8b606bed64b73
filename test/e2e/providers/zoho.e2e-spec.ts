import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { RefreshSweep } from '../../../src/refresh/refresh.sweep.js';
import { FakeServer } from '../../fakes/fake-server.js';
import { ZohoFake } from '../../fakes/zoho.fake.js';
import { type Contract, recordsPerSecond, startContract } from '../../support/provider-contract.js';

const CLIENT_ID = '1000.6BZ1QL3L1X9U7XJ6EXAMPLE';
const CLIENT_SECRET = 'zoho-secret-2aff6e1b5f0c';
const SCOPES = ['ZohoCRM.modules.ALL', 'ZohoCRM.org.READ', 'ZohoCRM.users.READ'];
const SEEDED = { Contacts: 2_300, Accounts: 150 } as const;

/**
 * `provider: zoho`, pointed at a Zoho fake with two data centres that
 * replays Zoho's documented OAuth and CRM behaviour (test/fakes/zoho.fake.ts
 * cites each page). The integration's URLs name the US accounts server;
 * EU users come back with their own `accounts-server`.
 */
describe('Zoho CRM contract', () => {
  let fake: ZohoFake;
  let foreign: FakeServer;
  let c: Contract;
  let us: string;
  let eu: string;
  const rates: Record<string, number> = {};

  beforeAll(async () => {
    fake = await new ZohoFake(CLIENT_ID, CLIENT_SECRET).start();
    fake.seed('us', 'Contacts', SEEDED.Contacts);
    fake.seed('us', 'Accounts', SEEDED.Accounts);
    fake.seed('eu', 'Contacts', 40);
    foreign = await new FakeServer().start(0, '127.0.0.2');
    const accounts = fake.dcs.us.accounts.baseUrl;
    c = await startContract({
      provider: 'zoho',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scopes: SCOPES,
      entry: {
        authorizationUrl: `${accounts}/oauth/v2/auth`,
        tokenUrl: `${accounts}/oauth/v2/token`,
        revocationUrl: `${accounts}/oauth/v2/token/revoke`,
      },
    });
  });

  afterAll(async () => {
    if (Object.keys(rates).length)
      process.stdout.write(`zoho sync rates ${JSON.stringify(rates)}\n`);
    await c?.stop();
    await fake?.stop();
    await foreign?.stop();
  });

  it('connects a US user: offline access with consent, the org and user as account, apiDomain and accountsServer extras', async () => {
    fake.consentIn = 'us';
    us = await c.connectOk('tenant-zoho-us');
    const authorize = fake.dcs.us.accounts.hits(/\/oauth\/v2\/auth$/)[0]!;
    const query = new URLSearchParams(authorize.query);
    expect(query.get('access_type')).toBe('offline');
    expect(query.get('prompt')).toBe('consent');
    expect(query.get('scope')).toBe(SCOPES.join(','));
    const connection = await c.api(`/v1/connections/${us}`);
    expect(connection.body).toMatchObject({
      provider: 'zoho',
      status: 'active',
      account: {
        id: '5725767000000020005/5725767000000411001',
        email: 'patricia+us@zohotest.example',
      },
    });
    const token = await c.api(`/v1/connections/${us}/token`);
    expect(token.body.extras).toEqual({
      apiDomain: fake.dcs.us.api.baseUrl,
      accountsServer: fake.dcs.us.accounts.baseUrl,
    });
  });

  it('a connection made in a second data centre exchanges, refreshes and calls the API there', async () => {
    fake.consentIn = 'eu';
    eu = await c.connectOk('tenant-zoho-eu');
    expect(fake.dcs.eu.accounts.hits(/\/oauth\/v2\/token$/)).toHaveLength(1);
    const usTokens = fake.dcs.us.accounts.hits(/\/oauth\/v2\/token$/).length;
    expect((await c.api(`/v1/connections/${eu}/refresh`, { method: 'POST' })).status).toBe(200);
    expect(fake.grants.eu.counters.refreshes).toBe(1);
    expect(fake.dcs.us.accounts.hits(/\/oauth\/v2\/token$/)).toHaveLength(usTokens);
    const token = await c.api(`/v1/connections/${eu}/token`);
    expect(token.body.extras).toMatchObject({
      apiDomain: fake.dcs.eu.api.baseUrl,
      accountsServer: fake.dcs.eu.accounts.baseUrl,
    });
    const run = await c.sync(eu, 'contacts');
    expect(run).toMatchObject({ status: 'succeeded', recordsFetched: 40 });
    expect(fake.dcs.eu.api.hits(/\/crm\/v8\/Contacts$/).length).toBeGreaterThan(0);
    expect((await c.api(`/v1/connections/${eu}`)).body.account.id).toBe(
      '20071234000000020005/20071234000000411001',
    );
  });

  it('a full sync reads 2,000 records by page number and the rest by page token, every record once', async () => {
    const run = await c.sync(us, 'contacts');
    rates['contacts full'] = recordsPerSecond(run);
    expect(run).toMatchObject({
      status: 'succeeded',
      full: true,
      recordsFetched: SEEDED.Contacts,
      pages: 12,
    });
    const hits = fake.dcs.us.api.hits(/\/crm\/v8\/Contacts$/);
    expect(hits.filter((h) => h.query.includes('page_token='))).toHaveLength(2);
    expect(hits.every((h) => h.status === 200)).toBe(true);
    const records = await c.records(us, 'contacts');
    expect(records.map((r) => r.id).sort()).toEqual(
      [...fake.dcs.us.org.records.Contacts.keys()].sort(),
    );
    const companies = await c.sync(us, 'companies');
    expect(companies).toMatchObject({ status: 'succeeded', recordsFetched: SEEDED.Accounts });
  });

  it('an empty module (204) syncs as zero records', async () => {
    const run = await c.sync(eu, 'companies');
    expect(run).toMatchObject({ status: 'succeeded', recordsFetched: 0 });
    expect(fake.dcs.eu.api.hits(/\/crm\/v8\/Accounts$/).at(-1)!.status).toBe(204);
  });

  it('the access token expires during a run: one refresh (no new refresh token) and the run succeeds', async () => {
    let pages = 0;
    fake.dcs.us.api.onRequest = (request) => {
      if (request.url.pathname === '/crm/v8/Contacts' && (pages += 1) === 3)
        fake.grants.us.expireAccessTokens();
    };
    const refreshes = fake.grants.us.counters.refreshes;
    const run = await c.sync(us, 'contacts', { full: true });
    fake.dcs.us.api.onRequest = undefined;
    expect(run).toMatchObject({ status: 'succeeded', recordsFetched: SEEDED.Contacts });
    expect(fake.dcs.us.api.hits(/\/crm\/v8\/Contacts$/).some((r) => r.status === 401)).toBe(true);
    expect(fake.grants.us.counters.refreshes).toBe(refreshes + 1);
  });

  it('changes arrive with If-Modified-Since, deletions from /deleted; nothing changed is a 304 and zero records', async () => {
    const ids = [...fake.dcs.us.org.records.Contacts.keys()];
    for (const id of ids.slice(0, 5))
      fake.update('us', 'Contacts', id, { Email: `new-${id}@example.test` });
    for (const id of ids.slice(5, 7)) fake.remove('us', 'Contacts', id);
    const run = await c.sync(us, 'contacts');
    rates['contacts incremental'] = recordsPerSecond(run);
    expect(run).toMatchObject({
      status: 'succeeded',
      full: false,
      recordsUpserted: 5,
      recordsDeleted: 2,
    });
    expect(run.recordsFetched).toBeLessThan(12);
    const records = new Map((await c.records(us, 'contacts')).map((r) => [r.id, r]));
    for (const id of ids.slice(0, 5))
      expect(records.get(id).fields.email).toBe(`new-${id}@example.test`);
    for (const id of ids.slice(5, 7)) expect(records.get(id).deletedAt).not.toBeNull();

    // Nothing changed after the If-Modified-Since: Zoho answers 304 (the look-back
    // window re-reads the newest record, so a quiet module is made to answer so here).
    fake.dcs.us.api.faults.push({ status: 304, path: /\/crm\/v8\/Accounts$/ });
    const nothing = await c.sync(us, 'companies');
    expect(nothing).toMatchObject({ status: 'succeeded', full: false, recordsFetched: 0 });
    expect(fake.dcs.us.api.hits(/\/crm\/v8\/Accounts$/).at(-1)!.status).toBe(304);
  });

  it('a dead refresh token (HTTP 200, invalid_code) makes the connection needs_reauth after one attempt, with no retry loop', async () => {
    fake.consentIn = 'us';
    const other = await c.connectOk('tenant-zoho-dead');
    const token = (await c.api(`/v1/connections/${other}/token`)).body.accessToken;
    fake.grants.us.revoke(token);
    const before = fake.dcs.us.accounts.hits(/\/oauth\/v2\/token$/).length;
    const forced = await c.api(`/v1/connections/${other}/refresh`, { method: 'POST' });
    expect(forced.status).toBe(409);
    expect(forced.body.error.code).toBe('needs_reauth');
    // Callers, the sweep and syncs keep asking for a minute: the provider hears nothing more.
    for (let i = 0; i < 10; i += 1) {
      expect((await c.api(`/v1/connections/${other}/token`)).status).toBe(409);
      expect((await c.api(`/v1/connections/${other}/refresh`, { method: 'POST' })).status).toBe(
        409,
      );
    }
    expect(
      (await c.api(`/v1/connections/${other}/syncs`, { method: 'POST', body: {} })).status,
    ).toBe(409);
    // The proactive sweep, run as its schedule would over the next minutes, leaves it alone too.
    const sweep = c.broker.app.get(RefreshSweep);
    for (let minute = 1; minute <= 3; minute += 1) {
      c.clock.advance(60_000);
      await sweep.sweep();
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fake.dcs.us.accounts.hits(/\/oauth\/v2\/token$/).length).toBe(before + 1);
    expect((await c.api(`/v1/connections/${other}`)).body.status).toBe('needs_reauth');
  });

  it("an accounts-server that is not Zoho's never receives the code", async () => {
    fake.accountsServerOverride = foreign.baseUrl;
    try {
      const landed = await c.connect('tenant-zoho-foreign');
      expect(landed.searchParams.get('error')).toBe('api_host_not_allowed');
      expect(foreign.requests).toEqual([]);
    } finally {
      fake.accountsServerOverride = undefined;
    }
  });

  it('disconnect revokes the refresh token at its own data centre', async () => {
    expect((await c.api(`/v1/connections/${eu}`, { method: 'DELETE' })).status).toBe(204);
    expect(fake.grants.eu.counters.revocations).toBe(1);
    expect(fake.dcs.eu.accounts.hits(/\/oauth\/v2\/token\/revoke$/).at(-1)!.status).toBe(200);
  });

  it('writes no secret to the log', () => {
    const text = c.logText();
    const issued = [...fake.grants.us.issued, ...fake.grants.eu.issued];
    const leaked = [...issued, CLIENT_SECRET, c.key].filter((s) => text.includes(s));
    expect(leaked).toEqual([]);
  });
});
