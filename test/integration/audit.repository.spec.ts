import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditRepository } from '../../src/audit/audit.repository.js';
import type { PrismaService } from '../../src/infra/prisma/prisma.service.js';
import { withDb } from '../support/db.js';
import { testPrisma } from '../support/infra.js';

describe('AuditRepository on PostgreSQL', () => {
  let prisma: PrismaService;
  const tenant = `audit-${randomUUID()}`;

  beforeAll(() => {
    prisma = testPrisma();
  });

  afterAll(async () => {
    await prisma.$disconnect();
  });

  it('writes a batch as one statement, each column (nulls, JSON, times) intact', async () => {
    const connectionId = randomUUID();
    const serviceKeyId = randomUUID();
    const at = new Date('2026-11-25T10:00:00.123Z');
    await new AuditRepository(prisma).recordMany([
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
    await new AuditRepository(prisma).recordMany([]);
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
