import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startBroker, type TestBroker } from '../support/broker.js';
import { withDb } from '../support/db.js';
import { eventually } from '../support/eventually.js';
import { type Scenario, startScenario } from '../support/scenario.js';

const TENANT = 'tenant-audit-closed';

/**
 * The token read fails closed: with the audit insert refused (a trigger
 * that raises for batches holding this suite's tenant only, so suites
 * sharing the database are unaffected) a strict broker answers 503 audit_unavailable without the
 * token, and a best-effort one answers 200.
 */
describe('the audit trail on the token read', () => {
  let s: Scenario;
  let bestEffort: TestBroker;
  let key: string;
  let connectionId: string;

  beforeAll(async () => {
    s = await startScenario();
    bestEffort = await startBroker({
      integrationsYaml: s.brokerSetup.integrationsYaml,
      env: { ...s.brokerSetup.env, AUDIT_MODE: 'best-effort' },
      redisPrefix: s.broker.redisPrefix,
    });
    key = await s.cliCreateKey(['--name', 'audit-e2e', '--tenant', TENANT]);
    connectionId = await s.connectOk(key, { tenantId: TENANT });
  });

  afterAll(async () => {
    await withDb((db) => db.query('DROP TRIGGER IF EXISTS refuse_audit_e2e ON audit_batches'));
    await bestEffort?.stop();
    await s?.stop();
  });

  const read = (broker: TestBroker) =>
    fetch(`${broker.url}/v1/connections/${connectionId}/token`, {
      headers: { authorization: `Bearer ${key}` },
    });

  it('writes one row per read, with caller, tenant, request id and a fingerprint, never the token', async () => {
    const responses = await Promise.all(Array.from({ length: 20 }, () => read(s.broker)));
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<any>));
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    const rows = await withDb(
      async (db) =>
        (
          await db.query(
            "SELECT * FROM audit_events WHERE connection_id = $1 AND action = 'token.read' ORDER BY id",
            [connectionId],
          )
        ).rows,
    );
    expect(rows).toHaveLength(20);
    const requestIds = new Set(responses.map((r) => r.headers.get('x-request-id')));
    for (const row of rows) {
      expect(row).toMatchObject({ tenant_id: TENANT, service_key_id: expect.any(String) });
      expect(requestIds.has(row.request_id)).toBe(true);
      expect(row.token_fingerprint).toMatch(/^[A-Za-z0-9_-]+:[A-Za-z0-9_-]{43}$/);
      expect(row.batch_id).not.toBeNull();
    }
    // Group commit: 20 concurrent reads in fewer batches than rows.
    expect(new Set(rows.map((row) => row.batch_id)).size).toBeLessThan(20);
    const dump = JSON.stringify(rows);
    for (const body of bodies) expect(dump).not.toContain(body.accessToken);
  });

  it('audits a read refused for another tenant', async () => {
    const other = await s.cliCreateKey(['--name', 'audit-e2e-other', '--tenant', 'someone-else']);
    const response = await s.api(`/v1/connections/${connectionId}/token`, { key: other });
    expect(response.status).toBe(404);
    // Written behind the refusal: it lands within moments.
    let rows: Record<string, unknown>[] = [];
    await eventually(async () => {
      const found = await withDb(
        async (db) =>
          (
            await db.query(
              "SELECT * FROM audit_events WHERE connection_id = $1 AND action = 'token.read_refused'",
              [connectionId],
            )
          ).rows,
      );
      expect(found).toHaveLength(1);
      rows = found;
    });
    expect(rows[0]).toMatchObject({
      tenant_id: TENANT,
      request_id: response.headers.get('x-request-id'),
      detail: { attempted: 'token.read', code: 'connection_not_found' },
    });
  });

  it('keys sent over one keep-alive connection are each checked (the key digest is kept per connection)', async () => {
    const other = await s.cliCreateKey(['--name', 'audit-e2e-pooled', '--tenant', 'someone-else']);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const get = (bearer: string) =>
      new Promise<{ status: number; reused: boolean }>((resolve, reject) => {
        const request = http.get(
          `${s.broker.url}/v1/connections/${connectionId}/token`,
          { agent, headers: { authorization: `Bearer ${bearer}` } },
          (response) => {
            response.resume();
            response.on('end', () =>
              resolve({ status: response.statusCode!, reused: request.reusedSocket }),
            );
          },
        );
        request.on('error', reject);
      });
    try {
      const answers = [await get(key), await get(other), await get(key), await get(`${key}x`)];
      expect(answers.map((a) => a.status)).toEqual([200, 404, 200, 401]);
      // One connection throughout: the same socket carried all four keys.
      expect(answers.slice(1).every((a) => a.reused)).toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it("GET /v1/audit pages through the rows of the key's tenants, never a token", async () => {
    for (let i = 0; i < 6; i += 1) expect((await read(s.broker)).status).toBe(200);
    const first = await s.api(`/v1/audit?connectionId=${connectionId}&limit=5`, { key });
    expect(first.status).toBe(200);
    expect(first.body.data).toHaveLength(5);
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const reads = first.body.data.filter((row: { action: string }) => row.action === 'token.read');
    expect(reads.length).toBeGreaterThan(0);
    for (const row of reads) {
      expect(row).toMatchObject({
        connectionId,
        tenantId: TENANT,
        requestId: expect.any(String),
        tokenFingerprint: expect.any(String),
      });
    }
    const second = await s.api(
      `/v1/audit?connectionId=${connectionId}&limit=5&after=${first.body.nextCursor}`,
      { key },
    );
    expect(second.status).toBe(200);
    expect(BigInt(second.body.data[0].id)).toBeGreaterThan(BigInt(first.body.data[4].id));
    const dump = JSON.stringify([first.body, second.body]);
    for (const secret of s.sandbox.auth.issuedSecrets) expect(dump).not.toContain(secret);
    // A key of another tenant sees none of them; a key without manage is refused.
    const other = await s.cliCreateKey(['--name', 'audit-e2e-peer', '--tenant', 'someone-else']);
    const foreign = await s.api(`/v1/audit?connectionId=${connectionId}`, { key: other });
    expect(foreign.body.data).toEqual([]);
    const reader = await s.cliCreateKey(['--name', 'audit-e2e-token', '--action', 'token']);
    expect((await s.api('/v1/audit', { key: reader })).status).toBe(403);
    expect((await s.api('/v1/audit?after=x', { key })).status).toBe(400);
  });

  it('answers 503 audit_unavailable and no token when the row cannot be written (strict), 200 with best-effort', async () => {
    await withDb(async (db) => {
      await db.query(`CREATE OR REPLACE FUNCTION refuse_audit_e2e() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'audit refused by the e2e test'; END $$`);
      await db.query(`CREATE TRIGGER refuse_audit_e2e BEFORE INSERT ON audit_batches FOR EACH ROW
        WHEN ('${TENANT}' = ANY (NEW.tenant_ids)) EXECUTE FUNCTION refuse_audit_e2e()`);
    });
    const strict = await read(s.broker);
    const text = await strict.text();
    expect(strict.status).toBe(503);
    expect(strict.headers.get('retry-after')).toBe('5');
    expect(JSON.parse(text).error.code).toBe('audit_unavailable');
    expect(text).not.toMatch(/accessToken/);
    for (const secret of s.sandbox.auth.issuedSecrets) expect(text).not.toContain(secret);

    const lenient = await read(bestEffort);
    expect(lenient.status).toBe(200);
    expect(((await lenient.json()) as { accessToken: string }).accessToken).toEqual(
      expect.any(String),
    );
  });
});
