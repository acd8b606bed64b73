import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { withDb } from '../../support/db.js';
import { MicrosoftFake } from '../../fakes/microsoft.fake.js';
import { type Contract, recordsPerSecond, startContract } from '../../support/provider-contract.js';

const CLIENT_ID = '00001111-aaaa-2222-bbbb-3333cccc4444';
const CLIENT_SECRET = 'ms-secret~sampleCredentia1s';
const TENANT = '8eaef023-2b34-4da1-9baa-8bc8c9d6a490';
const ADA = {
  tid: TENANT,
  oid: '00000000-0000-0000-66f3-3332eca7ea81',
  name: 'Ada Lovelace',
  username: 'ada@contoso.example',
};

/**
 * `provider: microsoft`, pointed at a Microsoft fake (login, Graph and a
 * Dataverse organisation) that replays the documented behaviour
 * (test/fakes/microsoft.fake.ts cites each page).
 */
describe('Microsoft contract', () => {
  let fake: MicrosoftFake;
  let graph: Contract;
  let dynamics: Contract;
  let id: string;
  const rates: Record<string, number> = {};

  const urls = (tenant: string) => ({
    authorizationUrl: `${fake.login.baseUrl}/${tenant}/oauth2/v2.0/authorize`,
    tokenUrl: `${fake.login.baseUrl}/${tenant}/oauth2/v2.0/token`,
    issuer: `${fake.login.baseUrl}/{tenantid}/v2.0`,
  });

  beforeAll(async () => {
    fake = await new MicrosoftFake(CLIENT_ID, CLIENT_SECRET).start();
    fake.addUser(ADA);
    fake.seedContacts(450);
    fake.seedRows('contacts', 1_200);
    fake.seedRows('accounts', 300);
    graph = await startContract({
      provider: 'microsoft',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      // The Graph scope in its URI form; the answer lists `Contacts.Read`.
      scopes: ['openid', 'profile', 'offline_access', 'https://graph.microsoft.com/Contacts.Read'],
      entry: { ...urls('common'), api: { baseUrl: fake.graph.baseUrl } },
    });
    dynamics = await startContract({
      provider: 'microsoft',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      // The confidential-client form the Dataverse docs give: `<environment-url>/.default`.
      scopes: ['openid', 'profile', 'offline_access', `${fake.dynamics.baseUrl}/.default`],
      entry: {
        ...urls(TENANT),
        settings: { tenant: TENANT },
        api: { variant: 'dynamics', baseUrl: fake.dynamics.baseUrl },
      },
    });
  });

  afterAll(async () => {
    if (Object.keys(rates).length)
      process.stdout.write(`microsoft sync rates ${JSON.stringify(rates)}\n`);
    await graph?.stop();
    await dynamics?.stop();
    await fake?.stop();
  });

  it('connects through `common`: PKCE, a scope echo without offline_access, the tenant-specific ID token; the account is tid/oid', async () => {
    id = await graph.connectOk('tenant-ms');
    const authorize = fake.login.hits(/\/oauth2\/v2\.0\/authorize$/)[0]!;
    expect(authorize.path).toBe('/common/oauth2/v2.0/authorize');
    expect(new URLSearchParams(authorize.query).get('code_challenge_method')).toBe('S256');
    const connection = await graph.api(`/v1/connections/${id}`);
    expect(connection.body).toMatchObject({
      provider: 'microsoft',
      status: 'active',
      account: { id: `${ADA.tid}/${ADA.oid}`, email: ADA.username, name: ADA.name },
    });
    expect(connection.body.scopes).toEqual(['profile', 'Contacts.Read']);
    const token = await graph.api(`/v1/connections/${id}/token`);
    expect(token.body).toMatchObject({ tokenType: 'Bearer', extras: {} });
  });

  it('a full Graph sync reads every contact through the delta pages and keeps the delta link', async () => {
    const run = await graph.sync(id, 'contacts');
    rates['graph contacts full'] = recordsPerSecond(run);
    expect(run).toMatchObject({ status: 'succeeded', full: true, recordsFetched: 450, pages: 5 });
    const records = await graph.records(id, 'contacts');
    expect(records.map((r) => r.id).sort()).toEqual([...fake.contacts.keys()].sort());
    expect(records[0].fields).toMatchObject({ email: expect.stringMatching(/@example\.test$/) });
  });

  it('the access token expires during a run: the rotated refresh token is stored and never reused', async () => {
    let pages = 0;
    fake.graph.onRequest = () => {
      if ((pages += 1) === 2) fake.grants.expireAccessTokens();
    };
    const run = await graph.sync(id, 'contacts', { full: true });
    fake.graph.onRequest = undefined;
    expect(run).toMatchObject({ status: 'succeeded', recordsFetched: 450 });
    expect(fake.graph.hits(/delta$/).some((h) => h.status === 401)).toBe(true);
    for (let i = 0; i < 3; i += 1)
      expect((await graph.api(`/v1/connections/${id}/refresh`, { method: 'POST' })).status).toBe(
        200,
      );
    expect(fake.grants.counters.refreshes).toBeGreaterThanOrEqual(4);
    expect(fake.grants.counters.staleRefreshTokens).toBe(0);
  });

  it('changes arrive through the delta link, deletions as @removed', async () => {
    const ids = [...fake.contacts.keys()];
    for (const contact of ids.slice(0, 3))
      fake.updateContact(contact, { email: `new-${contact.slice(10, 16)}@example.test` });
    for (const contact of ids.slice(3, 5)) fake.updateContact(contact, { deleted: true });
    const run = await graph.sync(id, 'contacts');
    rates['graph contacts incremental'] = recordsPerSecond(run);
    expect(run).toMatchObject({
      status: 'succeeded',
      full: false,
      recordsFetched: 5,
      recordsUpserted: 3,
      recordsDeleted: 2,
    });
    expect(fake.graph.hits(/delta$/).at(-1)!.query).toContain('$deltatoken=');
  });

  it('an expired delta token (410) makes the run a full one, which also finds deletions by absence', async () => {
    // Deleted, and then the delta state lost: only the full run can tell.
    const [gone] = [...fake.contacts.values()].filter((c) => !c.deleted);
    gone!.deleted = true;
    fake.expireDeltaTokens();
    const run = await graph.sync(id, 'contacts');
    const live = [...fake.contacts.values()].filter((c) => !c.deleted).length;
    expect(run).toMatchObject({
      status: 'succeeded',
      full: true,
      recordsFetched: live,
      recordsDeleted: 1,
    });
    expect(fake.graph.hits(/delta$/).some((h) => h.status === 410)).toBe(true);
  });

  it('Dynamics 365: contacts and accounts on the organisation host, OData headers, 500-record pages, modifiedon increments', async () => {
    const org = await dynamics.connectOk('tenant-ms-dynamics');
    expect(fake.login.hits(/\/oauth2\/v2\.0\/authorize$/).at(-1)!.path).toBe(
      `/${TENANT}/oauth2/v2.0/authorize`,
    );
    const contacts = await dynamics.sync(org, 'contacts');
    rates['dynamics contacts full'] = recordsPerSecond(contacts);
    expect(contacts).toMatchObject({ status: 'succeeded', recordsFetched: 1_200, pages: 3 });
    const companies = await dynamics.sync(org, 'companies');
    expect(companies).toMatchObject({ status: 'succeeded', recordsFetched: 300 });
    expect(fake.dynamics.hits(/\/contacts$/).every((h) => h.status === 200)).toBe(true);
    const [changed] = [...fake.dataverse.contacts.keys()];
    fake.updateRow('contacts', changed!, { emailaddress1: 'changed@example.test' });
    const incremental = await dynamics.sync(org, 'contacts');
    expect(incremental).toMatchObject({ status: 'succeeded', full: false, recordsUpserted: 1 });
    const query = new URLSearchParams(fake.dynamics.hits(/\/contacts$/).at(-1)!.query);
    expect(query.get('$filter')).toMatch(/^modifiedon gt \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    const records = new Map((await dynamics.records(org, 'contacts')).map((r) => [r.id, r]));
    expect(records.get(changed).fields.email).toBe('changed@example.test');
  });

  it('disconnect deletes the credentials and says in the event that Microsoft has no revocation', async () => {
    const before = fake.login.requests.length;
    expect((await graph.api(`/v1/connections/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(fake.login.requests.length).toBe(before);
    const events = await withDb((db) =>
      db.query(
        "SELECT payload FROM events WHERE connection_id = $1 AND type = 'connection.revoked'",
        [id],
      ),
    );
    expect(events.rows[0].payload).toMatchObject({ providerRevocation: 'not_supported' });
    const stored = await withDb((db) =>
      db.query('SELECT 1 FROM credentials WHERE connection_id = $1', [id]),
    );
    expect(stored.rows).toEqual([]);
    expect((await graph.api(`/v1/connections/${id}/token`)).status).toBe(404);
  });

  it('writes no secret to the log', () => {
    const text = `${graph.logText()}\n${dynamics.logText()}`;
    const leaked = [...fake.grants.issued, CLIENT_SECRET, graph.key, dynamics.key].filter((s) =>
      text.includes(s),
    );
    expect(leaked).toEqual([]);
  });
});
