import { Injectable } from '@nestjs/common';
import { PrismaService } from '../infra/prisma/prisma.service.js';

export type AuditAction =
  | 'token.read'
  | 'connection.created'
  | 'connection.updated'
  | 'connection.revoked'
  | 'connection.reauth_required';

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

  async recordMany(entries: readonly AuditEntry[]): Promise<void> {
    await this.prisma.auditEvent.createMany({
      data: entries.map((entry) => ({
        action: entry.action,
        connectionId: entry.connectionId,
        tenantId: entry.tenantId,
        serviceKeyId: entry.serviceKeyId,
        detail: entry.detail,
        createdAt: entry.at,
      })),
    });
  }
}
