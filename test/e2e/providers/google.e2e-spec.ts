import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GoogleFake } from '../../fakes/google.fake.js';
import { type Contract, recordsPerSecond, startContract } from '../../support/provider-contract.js';

const CLIENT_ID = '1234987819200.apps.googleusercontent.com';
const CLIENT_SECRET = 'GOCSPX-google-secret-0a1b2c';
const SCOPES = ['openid', 'email', 'https://www.googleapis.com/auth/contacts.readonly'];
const ADA = '10769150350006150715113082367';
const GRACE = '20769150350006150715113082368';

/**
 * `provider: google`, its issuer pointed at a Google fake that replays
 * Google's documented OAuth, OpenID Connect and People API behaviour
 * (test/fakes/google.fake.ts cites each page).
 */
describe('Google contract', () => {
  let fake: GoogleFake;
  let c: Contract;
  let id: string;
  const rates: Record<string, number> = {};

  beforeAll(async () => {
    fake = await new GoogleFake(CLIENT_ID, CLIENT_SECRET).start();
    fake.addAccount(ADA, 'ada@example.test', 'Ada Lovelace');
    fake.addAccount(GRACE, 'grace@example.test', 'Grace Hopper');
    fake.seed(ADA, 2_500);
    c = await startContract({
      provider: 'google',
      clientId: CLIENT_ID,
      clientSecret: CLIENT_SECRET,
      scopes: SCOPES,
      entry: { issuer: fake.issuer, api: { baseUrl: fake.issuer } },
    });
  });

  afterAll(async () => {
    if (Object.keys(rates).length)
      process.stdout.write(`google sync rates ${JSON.stringify(rates)}\n`);
    await c?.stop();
    await fake?.stop();
  });

  it('connects with offline access and consent; `email` granted as its URL form passes the scope check; the account is `sub`', async () => {
    fake.consentAs = ADA;
    id = await c.connectOk('tenant-google');
    const authorize = new URLSearchParams(fake.server.hits(/\/o\/oauth2\/v2\/auth$/)[0]!.query);
    expect(authorize.get('access_type')).toBe('offline');
    expect(authorize.get('prompt')).toBe('consent');
    expect(authorize.get('code_challenge_method')).toBe('S256');
    const connection = await c.api(`/v1/connections/${id}`);
    expect(connection.body).toMatchObject({
      provider: 'google',
      status: 'active',
      account: { id: ADA, email: 'ada@example.test', name: 'Ada Lovelace' },
    });
    expect(connection.body.scopes).toContain('https://www.googleapis.com/auth/userinfo.email');
    const token = await c.api(`/v1/connections/${id}/token`);
    expect(token.body).toMatchObject({ tokenType: 'Bearer', extras: {} });
  });

  it('a full sync pages through connections (pageToken) and keeps the sync token of the last page', async () => {
    const run = await c.sync(id, 'contacts');
    rates['contacts full'] = recordsPerSecond(run);
    expect(run).toMatchObject({ status: 'succeeded', full: true, recordsFetched: 2_500, pages: 3 });
    const records = await c.records(id, 'contacts');
    expect(records.map((r) => r.id).sort()).toEqual(
      [...fake.accounts.get(ADA)!.people.keys()].sort(),
    );
    expect(records[0].fields).toMatchObject({
      firstName: 'Ada',
      email: expect.stringMatching(/@example\.test$/),
    });
  });

  it('the access token expires during a run: one refresh (Google sends no new refresh token) and the run succeeds', async () => {
    let pages = 0;
    fake.server.onRequest = (request) => {
      if (request.url.pathname === '/v1/people/me/connections' && (pages += 1) === 2)
        fake.grants.expireAccessTokens();
    };
    const refreshes = fake.grants.counters.refreshes;
    const run = await c.sync(id, 'contacts', { full: true });
    fake.server.onRequest = undefined;
    expect(run).toMatchObject({ status: 'succeeded', recordsFetched: 2_500 });
    expect(fake.grants.counters.refreshes).toBe(refreshes + 1);
    expect((await c.api(`/v1/connections/${id}/refresh`, { method: 'POST' })).status).toBe(200);
  });

  it('changes arrive with the sync token: updates, additions and deletions (metadata.deleted)', async () => {
    const names = [...fake.accounts.get(ADA)!.people.keys()];
    for (const name of names.slice(0, 3))
      fake.update(ADA, name, { email: `new-${name.slice(8)}@example.test` });
    for (const name of names.slice(3, 5)) fake.remove(ADA, name);
    const [added] = fake.seed(ADA, 1);
    const run = await c.sync(id, 'contacts');
    rates['contacts incremental'] = recordsPerSecond(run);
    expect(run).toMatchObject({
      status: 'succeeded',
      full: false,
      recordsFetched: 6,
      recordsUpserted: 4,
      recordsDeleted: 2,
    });
    const request = new URLSearchParams(fake.server.hits(/\/connections$/).at(-1)!.query);
    expect(request.get('syncToken')).toBeTruthy();
    const records = new Map((await c.records(id, 'contacts')).map((r) => [r.id, r]));
    expect(records.get(added!).deletedAt).toBeNull();
    for (const name of names.slice(3, 5)) expect(records.get(name).deletedAt).not.toBeNull();
  });

  it('an expired sync token makes the run a full one, with the right result', async () => {
    const names = [...fake.accounts.get(ADA)!.people.keys()];
    fake.remove(ADA, names[10]!);
    fake.expireSyncTokens();
    const run = await c.sync(id, 'contacts');
    const live = [...fake.accounts.get(ADA)!.people.values()].filter((p) => !p.deleted).length;
    expect(run).toMatchObject({
      status: 'succeeded',
      full: true,
      recordsFetched: live,
      recordsDeleted: 1,
    });
    expect(fake.server.hits(/\/connections$/).some((h) => h.status === 400)).toBe(true);
    const records = await c.records(id, 'contacts');
    expect(records.filter((r) => r.deletedAt === null)).toHaveLength(live);
    // And the next run is incremental again, from the new token.
    expect((await c.sync(id, 'contacts')).full).toBe(false);
  });

  it('an empty account, answered `{}`, syncs as zero records and succeeds', async () => {
    fake.consentAs = GRACE;
    const grace = await c.connectOk('tenant-google-empty');
    const run = await c.sync(grace, 'contacts');
    expect(run).toMatchObject({ status: 'succeeded', recordsFetched: 0 });
    expect(await c.records(grace, 'contacts')).toEqual([]);
  });

  it('a reconnect revokes nothing (Google would revoke the new grant with the old); disconnect revokes', async () => {
    fake.consentAs = ADA;
    const revocations = fake.grants.counters.revocations;
    expect(await c.connectOk('tenant-google')).toBe(id);
    expect(fake.grants.counters.revocations).toBe(revocations);
    expect((await c.api(`/v1/connections/${id}/refresh`, { method: 'POST' })).status).toBe(200);
    expect((await c.api(`/v1/connections/${id}`, { method: 'DELETE' })).status).toBe(204);
    expect(fake.grants.counters.revocations).toBe(revocations + 1);
  });

  it('writes no secret to the log', () => {
    const text = c.logText();
    const leaked = [...fake.grants.issued, CLIENT_SECRET, c.key].filter((s) => text.includes(s));
    expect(leaked).toEqual([]);
  });
});
