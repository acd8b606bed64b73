import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { HubSpotFake, SEARCH_WINDOW } from '../../fakes/hubspot.fake.js';
import { type Contract, recordsPerSecond, startContract } from '../../support/provider-contract.js';

const CLIENT_ID = 'hs-client-7933b042';
const CLIENT_SECRET = 'hs-secret-7a572d8a-69bf-44c6';
const SCOPES = [
  'oauth',
  'crm.objects.contacts.read',
  'crm.objects.companies.read',
  'crm.objects.deals.read',
];
const SEEDED = { contacts: 1_200, companies: 150, deals: 120 } as const;

/**
 * `provider: hubspot`, pointed at a HubSpot fake that replays HubSpot's
 * documented OAuth v3 and CRM v3 behaviour (test/fakes/hubspot.fake.ts cites
 * each page): connect, token, full and incremental syncs of every model,
 * expiry mid-run, the search window, disconnect.
 */
describe('HubSpot contract', () => {
  let fake: HubSpotFake;
  let c: Contract;
  let id: string;
  const rates: Record<string, number> = {};

  beforeAll(async () => {
    fake = await new HubSpotFake(CLIENT_ID, CLIENT_SECRET).start();
    for (const [type, count] of Object.entries(SEEDED)) fake.seed(type as never, count);
    c = await startContract({
      provider: 'hubspot',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scopes: SCOPES,
      entry: {
        authorizationUrl: `${fake.baseUrl}/oauth/authorize`,
        tokenUrl: `${fake.baseUrl}/oauth/v3/token`,
        revocationUrl: `${fake.baseUrl}/oauth/v3/token/revoke`,
        api: { baseUrl: fake.baseUrl },
      },
    });
  });

  afterAll(async () => {
    // The sync rate of each run, for the closing note (records/s, this machine).
    if (Object.keys(rates).length)
      process.stdout.write(`hubspot sync rates ${JSON.stringify(rates)}\n`);
    await c?.stop();
    await fake?.stop();
  });

  it('connects with the client credentials in the form body; hub_id is the account and extras.hubId', async () => {
    id = await c.connectOk('tenant-hubspot');
    const [exchange] = fake.server.hits(/^\/oauth\/v3\/token$/);
    expect(exchange!.status).toBe(200);
    expect(exchange!.authorization).toBeUndefined();
    const connection = await c.api(`/v1/connections/${id}`);
    expect(connection.body).toMatchObject({
      provider: 'hubspot',
      status: 'active',
      account: { id: '62515' },
    });
    expect(connection.body.scopes).toEqual(expect.arrayContaining(SCOPES));
    const token = await c.api(`/v1/connections/${id}/token`);
    expect(token.status).toBe(200);
    expect(token.body).toMatchObject({ tokenType: 'Bearer', extras: { hubId: '62515' } });
    const lifetime = Date.parse(token.body.expiresAt) - Date.now();
    expect(lifetime).toBeGreaterThan(1_700_000);
    expect(lifetime).toBeLessThanOrEqual(1_800_000);
  });

  it('a client authenticating with HTTP Basic instead is refused, as HubSpot refuses it (BAD_CLIENT_ID)', async () => {
    const wrong = await startContract({
      provider: 'hubspot',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scopes: SCOPES,
      entry: {
        authorizationUrl: `${fake.baseUrl}/oauth/authorize`,
        tokenUrl: `${fake.baseUrl}/oauth/v3/token`,
        tokenEndpointAuthMethod: 'client_secret_basic',
        api: { baseUrl: fake.baseUrl },
      },
    });
    try {
      const landed = await wrong.connect('tenant-hubspot-basic');
      expect(landed.searchParams.get('error')).toBe('token_exchange_failed');
      expect(fake.server.hits(/^\/oauth\/v3\/token$/).at(-1)).toMatchObject({
        status: 400,
        authorization: expect.stringMatching(/^Basic /),
      });
    } finally {
      await wrong.stop();
    }
  });

  it('a full sync of contacts, companies and deals stores every record exactly once, mapped and raw', async () => {
    for (const model of ['contacts', 'companies', 'deals'] as const) {
      const run = await c.sync(id, model);
      rates[`${model} full`] = recordsPerSecond(run);
      expect(run).toMatchObject({ status: 'succeeded', full: true, recordsFetched: SEEDED[model] });
      const records = await c.records(id, model);
      expect(records.map((r) => r.id).sort()).toEqual([...fake.objects[model].keys()].sort());
    }
    const [contact] = await c.records(id, 'contacts');
    const stored = fake.objects.contacts.get(contact.id)!;
    expect(contact.fields).toMatchObject({
      firstName: stored.properties.firstname,
      lastName: stored.properties.lastname,
      email: stored.properties.email,
    });
    expect(contact.data).toMatchObject({
      id: stored.id,
      properties: { email: stored.properties.email },
    });
    expect(contact.providerUpdatedAt).toBe(stored.updatedAt);
  });

  it('the access token expires during a run: the 401 refreshes once and the run still succeeds', async () => {
    let pages = 0;
    fake.server.onRequest = (request) => {
      if (request.url.pathname === '/crm/v3/objects/contacts' && (pages += 1) === 4)
        fake.grants.expireAccessTokens();
    };
    const refreshes = fake.grants.counters.refreshes;
    const run = await c.sync(id, 'contacts', { full: true });
    fake.server.onRequest = undefined;
    expect(run).toMatchObject({ status: 'succeeded', recordsFetched: SEEDED.contacts, pages: 12 });
    expect(fake.server.hits(/^\/crm\/v3\/objects\/contacts$/).some((r) => r.status === 401)).toBe(
      true,
    );
    expect(fake.grants.counters.refreshes).toBe(refreshes + 1);
  });

  it('changes at HubSpot arrive with the next incremental run (search), archived records as tombstones', async () => {
    const ids = [...fake.objects.contacts.keys()];
    for (const changed of ids.slice(0, 5))
      fake.update('contacts', changed, { email: `new-${changed}@example.test` });
    for (const gone of ids.slice(5, 7)) fake.archive('contacts', gone);
    const searches = fake.server.hits(/\/contacts\/search$/).length;
    const run = await c.sync(id, 'contacts');
    rates['contacts incremental'] = recordsPerSecond(run);
    expect(run).toMatchObject({
      status: 'succeeded',
      full: false,
      recordsUpserted: 5,
      recordsDeleted: 2,
    });
    // Only the changes (and the look-back window) were read, not the 1,200.
    expect(run.recordsFetched).toBeLessThan(20);
    expect(fake.server.hits(/\/contacts\/search$/).length).toBe(searches + 1);
    const records = new Map((await c.records(id, 'contacts')).map((r) => [r.id, r]));
    for (const changed of ids.slice(0, 5))
      expect(records.get(changed).fields.email).toBe(`new-${changed}@example.test`);
    for (const gone of ids.slice(5, 7)) expect(records.get(gone).deletedAt).not.toBeNull();
    expect(records.get(ids[8]!).deletedAt).toBeNull();
  });

  it(`a backlog larger than the ${SEARCH_WINDOW}-result search window is read in slices, every record once`, async () => {
    const added = fake.seed('contacts', 10_500, new Date().toISOString(), 1);
    const run = await c.sync(id, 'contacts');
    rates['contacts backlog'] = recordsPerSecond(run);
    expect(run).toMatchObject({ status: 'succeeded', full: false });
    expect(run.recordsFetched).toBeGreaterThanOrEqual(10_500);
    // The window was never paged past (HubSpot answers that with a 400).
    expect(fake.server.hits(/\/contacts\/search$/).filter((r) => r.status !== 200)).toEqual([]);
    const records = await c.records(id, 'contacts');
    // Every contact HubSpot has (archived ones kept as deleted), each once.
    expect(records.map((r) => r.id).sort()).toEqual([...fake.objects.contacts.keys()].sort());
    const stored = new Set(records.map((r) => r.id));
    for (const newId of added) expect(stored.has(newId)).toBe(true);
  }, 120_000);

  it('a reconnect of the same portal updates the connection and revokes only the grant it replaces', async () => {
    const revocations = fake.grants.counters.revocations;
    const before = (await c.api(`/v1/connections/${id}/token`)).body.accessToken;
    expect(await c.connectOk('tenant-hubspot')).toBe(id);
    expect(fake.grants.counters.revocations).toBe(revocations + 1);
    expect(fake.grants.verify(before)).toBeUndefined();
    const refreshed = await c.api(`/v1/connections/${id}/refresh`, { method: 'POST' });
    expect(refreshed.status).toBe(200);
    expect((await c.api(`/v1/connections/${id}/token`)).status).toBe(200);
  });

  it('a dead refresh token (invalid_grant, BAD_REFRESH_TOKEN) makes the connection needs_reauth', async () => {
    const other = await c.connectOk('tenant-hubspot-2');
    const token = await c.api(`/v1/connections/${other}/token`);
    fake.grants.revoke(token.body.accessToken);
    const forced = await c.api(`/v1/connections/${other}/refresh`, { method: 'POST' });
    expect(forced.status).toBe(409);
    expect(forced.body.error.code).toBe('needs_reauth');
    expect((await c.api(`/v1/connections/${other}`)).body.status).toBe('needs_reauth');
  });

  it('disconnect revokes the refresh token at HubSpot (v3 revoke, credentials in the body)', async () => {
    const revocations = fake.grants.counters.revocations;
    expect((await c.api(`/v1/connections/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(fake.grants.counters.revocations).toBe(revocations + 1);
    expect(fake.server.hits(/\/oauth\/v3\/token\/revoke$/).at(-1)!.status).toBe(200);
    expect((await c.api(`/v1/connections/${id}/token`)).status).toBe(404);
  });

  it('writes no secret to the log', () => {
    const text = c.logText();
    const leaked = [...fake.grants.issued, CLIENT_SECRET, c.key].filter((s) => text.includes(s));
    expect(leaked).toEqual([]);
  });
});
