import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { countRows, withDb } from '../support/db.js';
import { eventually } from '../support/eventually.js';
import { type Scenario, startScenario } from '../support/scenario.js';

/**
 * The sync engine on real parts: BullMQ on Redis, PostgreSQL, oidc-provider
 * issuing short-lived tokens, and the sandbox CRM paging 10,000 contacts.
 */
describe('sync runs', () => {
  let s: Scenario;
  let key: string;
  let tenant = 0;

  beforeAll(async () => {
    s = await startScenario({ accessTokenTtlSeconds: 3 });
    key = await s.cliCreateKey(['--name', 'sync']);
    s.sandbox.crm.seed('contacts', 10_000);
  });

  afterAll(async () => {
    await s?.stop();
  });

  const connect = async () => {
    tenant += 1;
    return s.connectOk(key, { tenantId: `tenant-sync-${tenant}` });
  };
  const trigger = async (id: string, body: Record<string, unknown>) => {
    const response = await s.api(`/v1/connections/${id}/syncs`, { method: 'POST', key, body });
    expect(response.status).toBe(202);
    return response.body.syncRunIds as string[];
  };
  const run = async (connectionId: string, runId: string) =>
    (await s.api(`/v1/connections/${connectionId}/syncs`, { key })).body.data.find(
      (r: { id: string }) => r.id === runId,
    );
  const finished = async (connectionId: string, runId: string, timeoutMs = 60_000) => {
    let last: any;
    await eventually(
      async () => {
        last = await run(connectionId, runId);
        expect(['succeeded', 'failed']).toContain(last.status);
      },
      timeoutMs,
      100,
    );
    return last;
  };
  const allRecords = async (connectionId: string, model: string, query = '') => {
    const out: any[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await s.api(
        `/v1/connections/${connectionId}/records/${model}?limit=1000${query}${cursor ? `&cursor=${cursor}` : ''}`,
        { key },
      );
      expect(page.status).toBe(200);
      out.push(...page.body.data);
      cursor = page.body.nextCursor;
    } while (cursor);
    return out;
  };

  it('10,000 contacts with tokens shorter-lived than the run: exactly 10,000 records, refreshed mid-run, no page skipped', async () => {
    const id = await connect();
    s.sandbox.crm.pageDelayMs = 15;
    const refreshes = s.sandbox.auth.counters.refreshGrants;
    const unauthorized = s.sandbox.crm.counters.unauthorized;
    const [runId] = await trigger(id, { model: 'contacts' });
    // Halfway, every access token stops working at once: the next page gets a 401.
    await eventually(
      async () => expect((await run(id, runId!)).pages).toBeGreaterThan(40),
      30_000,
      50,
    );
    // Cleared again until a page meets the 401: a proactive refresh in flight at
    // the first clear would otherwise hand the worker a token issued after it.
    await eventually(
      async () => {
        s.sandbox.auth.expireAccessTokens();
        expect(s.sandbox.crm.counters.unauthorized).toBeGreaterThan(unauthorized);
      },
      20_000,
      100,
    );
    const done = await finished(id, runId!);
    s.sandbox.crm.pageDelayMs = 0;

    expect(done).toMatchObject({
      status: 'succeeded',
      model: 'contacts',
      full: true,
      recordsFetched: 10_000,
      recordsUpserted: 10_000,
      recordsDeleted: 0,
      pages: 100,
      error: null,
    });
    expect(await countRows('records', "connection_id = $1 AND model = 'contacts'", [id])).toBe(
      10_000,
    );
    expect(s.sandbox.crm.counters.unauthorized).toBeGreaterThan(unauthorized);
    expect(s.sandbox.auth.counters.refreshGrants).toBeGreaterThan(refreshes);
    expect(s.sandbox.auth.counters.refreshTokenReuse).toBe(0);
    const records = await allRecords(id, 'contacts');
    expect(records).toHaveLength(10_000);
    expect(new Set(records.map((r) => r.id)).size).toBe(10_000);
    expect(records.map((r) => r.id).sort()).toEqual(
      [...s.sandbox.crm.records.contacts.keys()].sort(),
    );
    expect((await s.api(`/v1/connections/${id}`, { key })).body.lastSyncAt).not.toBeNull();
  }, 90_000);

  it('an incremental run after 5 updates, 3 deletions and 2 additions fetches only those', async () => {
    const id = await connect();
    const [first] = await trigger(id, { model: 'contacts' });
    expect((await finished(id, first!)).status).toBe('succeeded');
    const before = new Date().toISOString();
    for (const n of [1, 2, 3, 4, 5])
      s.sandbox.crm.update('contacts', `co_${String(n * 100).padStart(6, '0')}`, {
        name: `renamed ${n}`,
      });
    for (const n of [7, 8, 9])
      s.sandbox.crm.remove('contacts', `co_${String(n * 100).padStart(6, '0')}`);
    s.sandbox.crm.add('contacts', 'co_new_1', { email: 'n1@example.test' });
    s.sandbox.crm.add('contacts', 'co_new_2', { email: 'n2@example.test' });

    const [second] = await trigger(id, { model: 'contacts' });
    const done = await finished(id, second!);
    expect(done).toMatchObject({
      status: 'succeeded',
      full: false,
      recordsFetched: 10,
      recordsUpserted: 7,
      recordsDeleted: 3,
    });
    const incrementalRequest = s.sandbox.crm.requests.filter((r) => r.model === 'contacts').at(-1)!;
    expect(incrementalRequest.query).toContain('updated_since=');

    const changed = await allRecords(
      id,
      'contacts',
      `&modifiedAfter=${encodeURIComponent(before)}`,
    );
    expect(changed).toHaveLength(10);
    expect(
      changed
        .filter((r) => r.deletedAt)
        .map((r) => r.id)
        .sort(),
    ).toEqual(['co_000700', 'co_000800', 'co_000900']);
    expect(changed.find((r) => r.id === 'co_000100').data.name).toBe('renamed 1');
    expect(
      await countRows(
        'records',
        "connection_id = $1 AND model = 'contacts' AND deleted_at IS NULL",
        [id],
      ),
    ).toBe(10_002 - 3);

    // Put the sandbox back for the other tests.
    for (const n of [7, 8, 9])
      s.sandbox.crm.records.contacts.delete(`co_${String(n * 100).padStart(6, '0')}`);
    s.sandbox.crm.records.contacts.delete('co_new_1');
    s.sandbox.crm.records.contacts.delete('co_new_2');
    s.sandbox.crm.seed('contacts', 0);
  }, 90_000);

  it('a full run marks records gone from the provider as deleted', async () => {
    const id = await connect();
    s.sandbox.crm.seed('tasks', 120);
    const [first] = await trigger(id, { model: 'tasks' });
    expect((await finished(id, first!)).recordsUpserted).toBe(120);
    s.sandbox.crm.records.tasks.delete('ta_000007');
    s.sandbox.crm.records.tasks.delete('ta_000100');
    const [second] = await trigger(id, { model: 'tasks' });
    const done = await finished(id, second!);
    // Tasks carry no updated-at field: every run is full, and absence means deletion.
    expect(done).toMatchObject({
      full: true,
      recordsFetched: 118,
      recordsUpserted: 0,
      recordsDeleted: 2,
    });
  });

  it('reads page-number and RFC 8288 Link pagination too', async () => {
    const id = await connect();
    s.sandbox.crm.seed('companies', 120);
    s.sandbox.crm.seed('deals', 130);
    const runIds = await trigger(id, {});
    expect(runIds).toHaveLength(2); // the integration's sync.models: contacts and companies
    const [dealsRun] = await trigger(id, { model: 'deals' });
    const results = await Promise.all([...runIds, dealsRun!].map((runId) => finished(id, runId)));
    expect(results.map((r) => [r.model, r.status, r.recordsFetched])).toEqual(
      expect.arrayContaining([
        ['companies', 'succeeded', 120],
        ['deals', 'succeeded', 130],
      ]),
    );
  }, 90_000);

  it('429 with Retry-After (seconds, then an HTTP-date) and a few 503s: completes, waits as asked, spends no attempt on 429s', async () => {
    const id = await connect();
    s.sandbox.crm.seed('companies', 0);
    s.sandbox.crm.faults.push(
      { status: 429, retryAfter: '2', model: 'companies' },
      { status: 429, retryAfter: new Date(Date.now() + 4_000).toUTCString(), model: 'companies' },
      { status: 503, model: 'companies' },
      { status: 503, model: 'companies' },
    );
    const since = s.sandbox.crm.requests.length;
    const [runId] = await trigger(id, { model: 'companies' });
    const done = await finished(id, runId!);
    expect(done).toMatchObject({ status: 'succeeded', recordsFetched: 120, attemptsMade: 0 });
    const hits = s.sandbox.crm.requests.slice(since).filter((r) => r.model === 'companies');
    expect(hits.slice(0, 4).map((h) => h.status)).toEqual([429, 429, 503, 503]);
    expect(hits[1]!.at - hits[0]!.at).toBeGreaterThanOrEqual(2_000);
    // An HTTP-date means "not before": counted from the moment it was sent.
    expect(hits[2]!.at).toBeGreaterThanOrEqual(Date.parse(hits[1]!.retryAfter!) - 1_000);
  }, 60_000);

  it('the grant revoked at the provider mid-run: the run fails, the connection needs re-authorisation, nothing loops', async () => {
    const id = await connect();
    s.sandbox.crm.pageDelayMs = 20;
    const [runId] = await trigger(id, { model: 'contacts' });
    await eventually(
      async () => expect((await run(id, runId!)).pages).toBeGreaterThan(5),
      30_000,
      50,
    );
    await s.sandbox.auth.revokeAllGrants();
    const done = await finished(id, runId!);
    s.sandbox.crm.pageDelayMs = 0;
    expect(done).toMatchObject({
      status: 'failed',
      error: { code: 'needs_reauth' },
      executions: 1,
    });
    expect((await s.api(`/v1/connections/${id}`, { key })).body.status).toBe('needs_reauth');
    const requests = s.sandbox.crm.requests.length;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(s.sandbox.crm.requests.length).toBe(requests);
    const retry = await s.api(`/v1/connections/${id}/syncs`, { method: 'POST', key, body: {} });
    expect(retry.status).toBe(409);
    expect(retry.body.error.code).toBe('needs_reauth');
    expect(await countRows('events', "connection_id = $1 AND type = 'sync.failed'", [id])).toBe(1);
  }, 60_000);

  it('a second trigger while a run is queued or running returns the same run', async () => {
    const id = await connect();
    s.sandbox.crm.pageDelayMs = 20;
    const [a] = await trigger(id, { model: 'contacts' });
    const [b] = await trigger(id, { model: 'contacts' });
    expect(b).toBe(a);
    await finished(id, a!);
    s.sandbox.crm.pageDelayMs = 0;
    await withDb(async (db) => {
      const { rows } = await db.query(
        'SELECT count(*)::int AS n FROM sync_runs WHERE connection_id = $1',
        [id],
      );
      expect(rows[0].n).toBe(1);
    });
  }, 60_000);

  it('bad input: unknown model 404, malformed body 400, another tenant 404', async () => {
    const id = await connect();
    const unknown = await s.api(`/v1/connections/${id}/syncs`, {
      method: 'POST',
      key,
      body: { model: 'invoices' },
    });
    expect([unknown.status, unknown.body.error.code]).toEqual([404, 'model_not_found']);
    const extra = await s.api(`/v1/connections/${id}/syncs`, {
      method: 'POST',
      key,
      body: { model: 'contacts', now: true },
    });
    expect([extra.status, extra.body.error.code]).toEqual([400, 'unknown_field']);
    const badCursor = await s.api(`/v1/connections/${id}/records/contacts?cursor=zzz`, { key });
    expect([badCursor.status, badCursor.body.error.code]).toEqual([400, 'invalid_cursor']);
    const stranger = await s.cliCreateKey(['--name', 'stranger', '--tenant', 'elsewhere']);
    expect((await s.api(`/v1/connections/${id}/records/contacts`, { key: stranger })).status).toBe(
      404,
    );
    expect(
      (await s.api(`/v1/connections/${id}/syncs`, { method: 'POST', key: stranger, body: {} }))
        .status,
    ).toBe(404);
  });

  it('writes no token to the logs', () => {
    const secrets = [...s.secrets, ...s.sandbox.auth.issuedSecrets];
    const text = s.logText();
    expect(secrets.filter((secret) => text.includes(secret))).toEqual([]);
  });
});
