import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FakeServer } from '../../fakes/fake-server.js';
import { PipedriveFake } from '../../fakes/pipedrive.fake.js';
import { type Contract, recordsPerSecond, startContract } from '../../support/provider-contract.js';

const CLIENT_ID = 'b4d083d9216986345b32';
const CLIENT_SECRET = 'pd-secret-6317ef33a9fb0c4d604ce';
const SEEDED = { persons: 1_234, organizations: 321 } as const;

/**
 * `provider: pipedrive`, pointed at a Pipedrive fake that replays its
 * documented OAuth and API v2 behaviour (test/fakes/pipedrive.fake.ts cites
 * each page). The API host is the connection's own `api_domain`.
 */
describe('Pipedrive contract', () => {
  let fake: PipedriveFake;
  /** Another host, on another loopback address: what a hostile `api_domain` would name. */
  let foreign: FakeServer;
  let c: Contract;
  let id: string;
  const rates: Record<string, number> = {};

  const entry = (fakeUrl: string) => ({
    authorizationUrl: `${fakeUrl}/oauth/authorize`,
    tokenUrl: `${fakeUrl}/oauth/token`,
    revocationUrl: `${fakeUrl}/oauth/revoke`,
  });

  beforeAll(async () => {
    fake = await new PipedriveFake(CLIENT_ID, CLIENT_SECRET).start();
    fake.seed('persons', SEEDED.persons);
    fake.seed('organizations', SEEDED.organizations);
    foreign = await new FakeServer().start(0, '127.0.0.2');
    c = await startContract({
      provider: 'pipedrive',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scopes: [],
      entry: entry(fake.baseUrl),
    });
  });

  afterAll(async () => {
    if (Object.keys(rates).length)
      process.stdout.write(`pipedrive sync rates ${JSON.stringify(rates)}\n`);
    await c?.stop();
    await fake?.stop();
    await foreign?.stop();
  });

  it('connects with HTTP Basic at the token endpoint; the account is the company and user; extras.apiDomain', async () => {
    id = await c.connectOk('tenant-pipedrive');
    const [exchange] = fake.server.hits(/^\/oauth\/token$/);
    expect(exchange!.status).toBe(200);
    expect(exchange!.authorization).toMatch(/^Basic /);
    const connection = await c.api(`/v1/connections/${id}`);
    expect(connection.body).toMatchObject({
      provider: 'pipedrive',
      status: 'active',
      account: { id: '54235233/1', email: 'me@pipedrive.example', name: 'Me' },
      scopes: ['base', 'contacts:read'],
    });
    const token = await c.api(`/v1/connections/${id}/token`);
    expect(token.body).toMatchObject({ tokenType: 'Bearer', extras: { apiDomain: fake.baseUrl } });
  });

  it('a client sending its secret in the body instead is refused, as Pipedrive refuses it', async () => {
    const wrong = await startContract({
      provider: 'pipedrive',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scopes: [],
      entry: { ...entry(fake.baseUrl), tokenEndpointAuthMethod: 'client_secret_post' },
    });
    try {
      const landed = await wrong.connect('tenant-pipedrive-post');
      expect(landed.searchParams.get('error')).toBe('token_exchange_failed');
      expect(fake.server.hits(/^\/oauth\/token$/).at(-1)!.status).toBe(400);
    } finally {
      await wrong.stop();
    }
  });

  it('a full sync of persons and organizations stores every record exactly once', async () => {
    for (const [model, list] of [
      ['contacts', 'persons'],
      ['companies', 'organizations'],
    ] as const) {
      const run = await c.sync(id, model);
      rates[`${model} full`] = recordsPerSecond(run);
      expect(run).toMatchObject({ status: 'succeeded', full: true, recordsFetched: SEEDED[list] });
      const records = await c.records(id, model);
      expect(records.map((r) => Number(r.id)).sort((a, b) => a - b)).toEqual(
        [...fake.items[list].keys()].sort((a, b) => a - b),
      );
    }
    const [person] = await c.records(id, 'contacts');
    const stored = fake.items.persons.get(Number(person.id))!;
    expect(person.fields).toMatchObject({
      name: stored.name,
      email: (stored.emails as Array<{ value: string }>)[0]!.value,
    });
  });

  it('the access token expires during a run: one refresh (the refresh token rotates) and the run succeeds', async () => {
    let pages = 0;
    fake.server.onRequest = (request) => {
      if (request.url.pathname === '/api/v2/persons' && (pages += 1) === 2)
        fake.grants.expireAccessTokens();
    };
    const refreshes = fake.grants.counters.refreshes;
    const run = await c.sync(id, 'contacts', { full: true });
    fake.server.onRequest = undefined;
    expect(run).toMatchObject({ status: 'succeeded', recordsFetched: SEEDED.persons, pages: 3 });
    expect(fake.server.hits(/^\/api\/v2\/persons$/).some((r) => r.status === 401)).toBe(true);
    expect(fake.grants.counters.refreshes).toBe(refreshes + 1);
    expect(fake.grants.counters.staleRefreshTokens).toBe(0);
  });

  it('changes at Pipedrive arrive with the next incremental run (updated_since)', async () => {
    const ids = [...fake.items.persons.keys()].slice(0, 5);
    for (const person of ids) fake.update('persons', person, { name: `Renamed ${person}` });
    const run = await c.sync(id, 'contacts');
    rates['contacts incremental'] = recordsPerSecond(run);
    expect(run).toMatchObject({ status: 'succeeded', full: false, recordsUpserted: 5 });
    expect(run.recordsFetched).toBeLessThan(12);
    const request = fake.server.hits(/^\/api\/v2\/persons$/).at(-1)!;
    expect(new URLSearchParams(request.query).get('sort_by')).toBe('update_time');
    const records = new Map((await c.records(id, 'contacts')).map((r) => [Number(r.id), r]));
    for (const person of ids) expect(records.get(person).fields.name).toBe(`Renamed ${person}`);
  });

  it('a reconnect of the same user updates the connection and revokes nothing (revoking would uninstall the app)', async () => {
    const revocations = fake.grants.counters.revocations;
    expect(await c.connectOk('tenant-pipedrive')).toBe(id);
    expect(fake.grants.counters.revocations).toBe(revocations);
    expect((await c.api(`/v1/connections/${id}/refresh`, { method: 'POST' })).status).toBe(200);
    expect((await c.sync(id, 'companies')).status).toBe('succeeded');
  });

  it('an api_domain outside *.pipedrive.com is refused before any request reaches it', async () => {
    const before = fake.grants.counters.revocations;
    fake.company.apiDomain = foreign.baseUrl;
    try {
      // At connect: refused before the account lookup could go there. The grant
      // is not revoked: at Pipedrive that would uninstall the app for the user,
      // taking the user's working connection with it.
      const landed = await c.connect('tenant-pipedrive-ssrf');
      expect(landed.searchParams.get('error')).toBe('api_host_not_allowed');
      expect(fake.grants.counters.revocations).toBe(before);
      // On a refresh: the token API still works, the sync fails with a clear code.
      const refreshed = await c.api(`/v1/connections/${id}/refresh`, { method: 'POST' });
      expect(refreshed.status).toBe(200);
      const token = await c.api(`/v1/connections/${id}/token`);
      expect(token.status).toBe(200);
      expect(token.body.extras.apiDomain).toBe(foreign.baseUrl);
      const run = await c.sync(id, 'contacts');
      expect(run).toMatchObject({ status: 'failed', error: { code: 'api_host_not_allowed' } });
      expect(foreign.requests).toEqual([]);
    } finally {
      fake.company.apiDomain = fake.baseUrl;
    }
  });

  it('disconnect revokes the refresh token at Pipedrive (RFC 7009, HTTP Basic)', async () => {
    const revocations = fake.grants.counters.revocations;
    const token = (await c.api(`/v1/connections/${id}/token`)).body.accessToken;
    expect((await c.api(`/v1/connections/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(fake.grants.counters.revocations).toBe(revocations + 1);
    const revoke = fake.server.hits(/^\/oauth\/revoke$/).at(-1)!;
    expect(revoke).toMatchObject({ status: 200, authorization: expect.stringMatching(/^Basic /) });
    expect(fake.grants.verify(token)).toBeUndefined();
  });

  it('lists Pipedrive in the catalogue with its 60-day refresh-token idle lifetime', async () => {
    const providers = await c.api('/v1/providers');
    expect(providers.body.data.find((p: { name: string }) => p.name === 'pipedrive')).toMatchObject(
      {
        refreshTokenIdleDays: 60,
        tokenEndpointAuthMethod: 'client_secret_basic',
      },
    );
  });

  it('writes no secret to the log', () => {
    const text = c.logText();
    const leaked = [...fake.grants.issued, CLIENT_SECRET, c.key].filter((s) => text.includes(s));
    expect(leaked).toEqual([]);
  });
});
