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

  it('writes a batch as one statement, each column (nulls, JSON, times) intact', async () => {
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
  });
});
