import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeServer } from '../../fakes/fake-server.js';
import { SalesforceFake } from '../../fakes/salesforce.fake.js';
import { type Contract, recordsPerSecond, startContract } from '../../support/provider-contract.js';

const CLIENT_ID = '3MVG9lKcPoNINVBIPJjdw1J9LLM82HnFVVX19KY1uA5mu0QqEWhqKpoW3svG3X';
const CLIENT_SECRET = 'sf-secret-1955279925675241571';
const SEEDED = { Contact: 4_500, Account: 700 } as const;
const ACCOUNT = '00DB0000000TfcRMAS/005B0000005Bk90IAC';

/**
 * `provider: salesforce`, pointed at a Salesforce fake that replays its
 * documented web server flow and REST query behaviour
 * (test/fakes/salesforce.fake.ts cites each page). Login and API are
 * different hosts: the API is the connection's `instance_url`.
 */
describe('Salesforce contract', () => {
  let fake: SalesforceFake;
  let foreign: FakeServer;
  let c: Contract;
  let id: string;
  const rates: Record<string, number> = {};

  beforeAll(async () => {
    fake = await new SalesforceFake(CLIENT_ID, CLIENT_SECRET).start();
    fake.seed('Contact', SEEDED.Contact);
    fake.seed('Account', SEEDED.Account);
    foreign = await new FakeServer().start(0, '127.0.0.2');
    c = await startContract({
      provider: 'salesforce',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scopes: ['api', 'refresh_token', 'id'],
      // A sandbox or My Domain is the same override of the login host's URLs.
      entry: {
        authorizationUrl: `${fake.login.baseUrl}/services/oauth2/authorize`,
        tokenUrl: `${fake.login.baseUrl}/services/oauth2/token`,
        revocationUrl: `${fake.login.baseUrl}/services/oauth2/revoke`,
      },
    });
  });

  afterAll(async () => {
    if (Object.keys(rates).length)
      process.stdout.write(`salesforce sync rates ${JSON.stringify(rates)}\n`);
    await c?.stop();
    await fake?.stop();
    await foreign?.stop();
  });

  it('connects (PKCE, credentials in the body); no expires_in means the 2-hour default; org and user from `id`', async () => {
    id = await c.connectOk('tenant-salesforce');
    const exchange = fake.login.hits(/\/services\/oauth2\/token$/)[0]!;
    expect(exchange).toMatchObject({ status: 200, authorization: undefined });
    const connection = await c.api(`/v1/connections/${id}`);
    expect(connection.body).toMatchObject({
      provider: 'salesforce',
      status: 'active',
      account: { id: ACCOUNT },
    });
    expect(connection.body.scopes).toEqual(['api', 'refresh_token', 'id']);
    const token = await c.api(`/v1/connections/${id}/token`);
    expect(token.body).toMatchObject({
      tokenType: 'Bearer',
      extras: { instanceUrl: fake.instanceUrl },
    });
    const lifetime = Date.parse(token.body.expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(7_100_000);
    expect(lifetime).toBeLessThanOrEqual(7_200_000);
  });

  it('a full sync of contacts and accounts pages through nextRecordsUrl on the instance host, every record once', async () => {
    for (const [model, object] of [
      ['contacts', 'Contact'],
      ['companies', 'Account'],
    ] as const) {
      const run = await c.sync(id, model);
      rates[`${model} full`] = recordsPerSecond(run);
      expect(run).toMatchObject({
        status: 'succeeded',
        full: true,
        recordsFetched: SEEDED[object],
      });
      const records = await c.records(id, model);
      expect(records.map((r) => r.id).sort()).toEqual([...fake.records[object].keys()].sort());
    }
    expect(fake.restHits(/\/query\/01gD/).length).toBeGreaterThanOrEqual(2);
    expect(fake.login.hits(/\/services\/data\//)).toEqual([]);
    const [contact] = await c.records(id, 'contacts');
    const stored = fake.records.Contact.get(contact.id)!;
    expect(contact.fields).toMatchObject({ lastName: stored.LastName, email: stored.Email });
    // `2013-05-20T20:49:32.000+0000` read as UTC.
    expect(contact.providerUpdatedAt).toBe(stored.SystemModstamp.replace('+0000', 'Z'));
  });

  it('a 401 INVALID_SESSION_ID mid-run refreshes (no refresh_token in the answer: the old one stays) and retries the page', async () => {
    let requests = 0;
    fake.instances[0]!.onRequest = (request) => {
      if (request.url.pathname.includes('/query') && (requests += 1) === 2)
        fake.grants.expireAccessTokens();
    };
    const refreshes = fake.grants.counters.refreshes;
    const run = await c.sync(id, 'contacts', { full: true });
    fake.instances[0]!.onRequest = undefined;
    expect(run).toMatchObject({ status: 'succeeded', recordsFetched: SEEDED.Contact, pages: 3 });
    expect(fake.restHits(/\/query/).some((r) => r.status === 401)).toBe(true);
    expect(fake.grants.counters.refreshes).toBe(refreshes + 1);
    // The kept refresh token still works.
    expect((await c.api(`/v1/connections/${id}/refresh`, { method: 'POST' })).status).toBe(200);
  });

  it('changes arrive with the next incremental run (SystemModstamp), deletions through queryAll', async () => {
    const ids = [...fake.records.Contact.keys()];
    for (const changed of ids.slice(0, 5))
      fake.update('Contact', changed, { Email: `new-${changed}@example.test` });
    for (const gone of ids.slice(5, 7)) fake.remove('Contact', gone);
    const run = await c.sync(id, 'contacts');
    rates['contacts incremental'] = recordsPerSecond(run);
    expect(run).toMatchObject({
      status: 'succeeded',
      full: false,
      recordsUpserted: 5,
      recordsDeleted: 2,
    });
    expect(run.recordsFetched).toBeLessThan(12);
    const query = fake.restHits(/\/v66\.0\/query$/).at(-1)!;
    expect(new URLSearchParams(query.query).get('q')).toMatch(
      /WHERE SystemModstamp > \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z ORDER BY SystemModstamp ASC$/,
    );
    expect(fake.restHits(/\/queryAll$/).at(-1)!.status).toBe(200);
    const records = new Map((await c.records(id, 'contacts')).map((r) => [r.id, r]));
    for (const changed of ids.slice(0, 5))
      expect(records.get(changed).fields.email).toBe(`new-${changed}@example.test`);
    for (const gone of ids.slice(5, 7)) expect(records.get(gone).deletedAt).not.toBeNull();
  });

  it('instance_url is re-read on every refresh: an org moved to another host is synced there', async () => {
    const moved = await fake.addInstance();
    fake.instanceUrl = moved.baseUrl;
    expect((await c.api(`/v1/connections/${id}/refresh`, { method: 'POST' })).status).toBe(200);
    const token = await c.api(`/v1/connections/${id}/token`);
    expect(token.body.extras.instanceUrl).toBe(moved.baseUrl);
    const run = await c.sync(id, 'companies');
    expect(run.status).toBe('succeeded');
    expect(moved.hits(/\/query/).length).toBeGreaterThan(0);
  });

  it('an instance_url outside *.salesforce.com and *.force.com is refused before anything is sent there', async () => {
    const home = fake.instanceUrl;
    const revocations = fake.grants.counters.revocations;
    fake.instanceUrl = foreign.baseUrl;
    try {
      // At connect: refused, and the grant is given back.
      const landed = await c.connect('tenant-salesforce-ssrf');
      expect(landed.searchParams.get('error')).toBe('api_host_not_allowed');
      expect(fake.grants.counters.revocations).toBe(revocations + 1);
      // On a refresh of a working connection: its token API still works, its syncs fail with a clear code.
      expect((await c.api(`/v1/connections/${id}/refresh`, { method: 'POST' })).status).toBe(200);
      const token = await c.api(`/v1/connections/${id}/token`);
      expect(token.status).toBe(200);
      expect(token.body.extras.instanceUrl).toBe(foreign.baseUrl);
      const run = await c.sync(id, 'contacts');
      expect(run).toMatchObject({ status: 'failed', error: { code: 'api_host_not_allowed' } });
      expect(foreign.requests).toEqual([]);
    } finally {
      fake.instanceUrl = home;
      expect((await c.api(`/v1/connections/${id}/refresh`, { method: 'POST' })).status).toBe(200);
    }
  });

  it('a query locator that expired while the run was away (INVALID_QUERY_LOCATOR): the feed is read again, the run succeeds', async () => {
    const instance = fake.instances.find((i) => i.baseUrl === fake.instanceUrl)!;
    const live = [...fake.records.Contact.values()].filter((r) => !r.IsDeleted).length;
    let requests = 0;
    instance.onRequest = () => {
      // The second page's locator is forgotten, as Salesforce forgets idle ones.
      if ((requests += 1) === 2) fake.forgetLocators();
    };
    const run = await c.sync(id, 'contacts', { full: true });
    instance.onRequest = undefined;
    // The first page, then the whole query again.
    expect(run).toMatchObject({ status: 'succeeded', recordsFetched: 2_000 + live });
    expect(instance.hits(/\/query\/01gD/).some((r) => r.status === 400)).toBe(true);
    const records = await c.records(id, 'contacts');
    expect(records.filter((r) => r.deletedAt === null)).toHaveLength(live);
  });

  it('a reconnect of the same user updates the connection and revokes the approval it replaces', async () => {
    const revocations = fake.grants.counters.revocations;
    expect(await c.connectOk('tenant-salesforce')).toBe(id);
    expect(fake.grants.counters.revocations).toBe(revocations + 1);
    expect((await c.api(`/v1/connections/${id}/refresh`, { method: 'POST' })).status).toBe(200);
  });

  it('with refresh token rotation on, every refresh stores the new token and never reuses the old one', async () => {
    fake.rotateRefreshTokens = true;
    for (let i = 0; i < 3; i += 1) {
      expect((await c.api(`/v1/connections/${id}/refresh`, { method: 'POST' })).status).toBe(200);
    }
    expect(fake.grants.counters.staleRefreshTokens).toBe(0);
  });

  it('disconnect revokes the grant at the login host', async () => {
    const revocations = fake.grants.counters.revocations;
    expect((await c.api(`/v1/connections/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(fake.grants.counters.revocations).toBe(revocations + 1);
    expect(fake.login.hits(/\/services\/oauth2\/revoke$/).at(-1)!.status).toBe(200);
  });

  it('writes no secret to the log', () => {
    const text = c.logText();
    const leaked = [...fake.grants.issued, CLIENT_SECRET, c.key].filter((s) => text.includes(s));
    expect(leaked).toEqual([]);
  });
});
