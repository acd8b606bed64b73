import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditAppender } from '../../src/audit/audit-appender.js';
import { Secret } from '../../src/common/secret.js';
import { withDb } from '../support/db.js';
import { testEnv } from '../support/test-env.js';

describe('AuditAppender on PostgreSQL', () => {
  let appender: AuditAppender;
  const tenant = `audit-${randomUUID()}`;

  beforeAll(() => {
    appender = new AuditAppender({ databaseUrl: new Secret(testEnv().databaseUrl) });
  });

  afterAll(async () => {
    await appender.onApplicationShutdown();
  });

  it('writes a batch as one row, each field (nulls, JSON, times) intact in the audit_events view', async () => {
    const connectionId = randomUUID();
    const serviceKeyId = randomUUID();
    const at = new Date('2026-11-25T10:00:00.123Z');
    await appender.recordMany([
      {
        action: 'token.read',
        connectionId,
        tenantId: tenant,
        serviceKeyId,
        detail: { refreshed: true, minValiditySeconds: 60, note: 'it\'s "quoted"' },
        at,
      },
      { action: 'connection.revoked', tenantId: tenant, at: new Date(at.getTime() + 1) },
    ]);
    await appender.recordMany([]);
    const rows = await withDb(
      async (client) =>
        (
          await client.query(
            'SELECT action, connection_id, tenant_id, service_key_id, detail, created_at FROM audit_events WHERE tenant_id = $1 ORDER BY id',
            [tenant],
          )
        ).rows,
    );
    expect(rows).toEqual([
      {
        action: 'token.read',
        connection_id: connectionId,
        tenant_id: tenant,
        service_key_id: serviceKeyId,
        detail: { refreshed: true, minValiditySeconds: 60, note: 'it\'s "quoted"' },
        created_at: at,
      },
      {
        action: 'connection.revoked',
        connection_id: null,
        tenant_id: tenant,
        service_key_id: null,
        detail: null,
        created_at: new Date(at.getTime() + 1),
      },
    ]);
    const batches = await withDb(
      async (client) =>
        (
          await client.query(
            `SELECT format, row_count, first_event_id, last_event_id, connection_ids, tenant_ids,
                    events, seq IS NOT NULL AND hash IS NOT NULL AS chained
             FROM audit_batches WHERE $1 = ANY (tenant_ids)`,
            [tenant],
          )
        ).rows,
    );
    expect(batches).toEqual([
      {
        format: 2,
        row_count: 2,
        first_event_id: expect.any(String),
        last_event_id: String(BigInt(batches[0].first_event_id) + 1n),
        connection_ids: [connectionId],
        tenant_ids: [tenant],
        events: expect.any(String),
        chained: true,
      },
    ]);
    expect(batches[0].events.split('\n').map((line: string) => JSON.parse(line))).toEqual([
      [
        'token.read',
        connectionId,
        tenant,
        serviceKeyId,
        null,
        null,
        { refreshed: true, minValiditySeconds: 60, note: 'it\'s "quoted"' },
        at.getTime(),
      ],
      ['connection.revoked', null, tenant, null, null, null, null, at.getTime() + 1],
    ]);
  });

  it('stores an id that is not a UUID (a refused read of /v1/connections/x) as none', async () => {
    await appender.recordMany([
      { action: 'token.read_refused', connectionId: 'x', tenantId: tenant, at: new Date() },
    ]);
    const rows = await withDb(
      async (client) =>
        (
          await client.query(
            `SELECT connection_id FROM audit_events WHERE tenant_id = $1 AND action = 'token.read_refused'`,
            [tenant],
          )
        ).rows,
    );
    expect(rows).toEqual([{ connection_id: null }]);
  });
});
