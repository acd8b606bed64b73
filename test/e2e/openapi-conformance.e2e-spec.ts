import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { z } from 'zod';
import { RESPONSE_SCHEMAS } from '../../src/docs/openapi.js';
import { eventually } from '../support/eventually.js';
import { type Scenario, startScenario } from '../support/scenario.js';

/** The broker's real answers parse with the schemas the OpenAPI document publishes. */
describe('responses match the OpenAPI document', () => {
  let s: Scenario;
  let key: string;
  let connectionId: string;
  const schema = (id: string) =>
    RESPONSE_SCHEMAS.find(
      (candidate) => (candidate.meta() as { id: string }).id === id,
    )! as z.ZodType;

  beforeAll(async () => {
    // A route needing a scope the integration never asks for: the proxy's 403 is checked below.
    s = await startScenario({ proxyRoutes: [{ pathPrefix: '/v1/tasks', scopes: ['tasks.read'] }] });
    key = await s.cliCreateKey(['--name', 'conformance']);
    s.sandbox.crm.seed('contacts', 30);
    connectionId = await s.connectOk(key, { tenantId: 'tenant-openapi' });
  });

  afterAll(async () => {
    await s?.stop();
  });

  const expectShape = async (
    path: string,
    id: string,
    init: Parameters<Scenario['api']>[1] = {},
  ) => {
    const response = await s.api(path, { key, ...init });
    const parsed = schema(id).safeParse(response.body);
    expect({ path, status: response.status, issues: parsed.error?.issues ?? [] }).toEqual({
      path,
      status: expect.any(Number),
      issues: [],
    });
    return response;
  };

  it('catalogue, connections, token, syncs, records, health and errors', async () => {
    await expectShape('/v1/providers', 'ProviderList');
    await expectShape('/v1/integrations', 'IntegrationList');
    await expectShape('/v1/connections?tenantId=tenant-openapi', 'ConnectionList');
    await expectShape(`/v1/connections/${connectionId}`, 'Connection');
    const read = await expectShape(`/v1/connections/${connectionId}/token`, 'AccessToken');
    // Already replaced (not the stored token): answered without a refresh, same shape.
    const replaced = await expectShape(
      `/v1/connections/${connectionId}/token/rejected`,
      'AccessToken',
      {
        method: 'POST',
        body: { accessToken: `${read.body.accessToken}-replaced` },
      },
    );
    expect(replaced.status).toBe(200);
    await expectShape(`/v1/connections/${connectionId}/refresh`, 'Connection', { method: 'POST' });
    const started = await expectShape(`/v1/connections/${connectionId}/syncs`, 'SyncsTriggered', {
      method: 'POST',
      body: { model: 'contacts' },
    });
    expect(started.status).toBe(202);
    await eventually(async () => {
      const runs = await expectShape(`/v1/connections/${connectionId}/syncs`, 'SyncRunList');
      expect(runs.body.data[0].status).toBe('succeeded');
    }, 30_000);
    const records = await expectShape(
      `/v1/connections/${connectionId}/records/contacts?limit=5`,
      'RecordPage',
    );
    expect(records.body.data).toHaveLength(5);
    await expectShape('/health/live', 'Liveness');
    await expectShape('/health/ready', 'Readiness');
    const session = await s.createSession(key, { tenantId: 'tenant-openapi' });
    await expectShape(`/v1/connect-sessions/${session.id}`, 'ConnectSessionStatus');
    const error = await expectShape('/v1/connections/not-a-connection', 'Error');
    expect(error.status).toBe(404);
    // The proxy's own refusals use the envelope too (its answers are the provider's).
    const refusedPath = await expectShape(`/v1/proxy/${connectionId}/v1%2Fcontacts`, 'Error');
    expect(refusedPath.status).toBe(400);
    const refusedScope = await expectShape(`/v1/proxy/${connectionId}/v1/tasks`, 'Error');
    expect(refusedScope.status).toBe(403);
    expect(refusedScope.body.error.code).toBe('insufficient_scope');
  }, 60_000);
});
