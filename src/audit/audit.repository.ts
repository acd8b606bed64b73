import { Injectable } from '@nestjs/common';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import type { AuditAction, AuditEntry } from './audit-entry.js';

export type { AuditAction, AuditEntry } from './audit-entry.js';

/** One stored audit row, as `GET /v1/audit` pages through them. */
export interface AuditRecord extends Omit<AuditEntry, 'at'> {
  id: bigint;
  at: Date;
  batchSeq?: bigint;
}

/** A chained batch with the digest of its rows as stored now (for `audit verify`). */
export interface AuditBatchCheck {
  seq: bigint;
  prevHash: Buffer;
  hash: Buffer;
  rowCount: number;
  storedRows: number;
  digest: Buffer | null;
}

/**
 * The read side of the append-only, hash-chained audit trail: paging,
 * verifying and purging. Appends are AuditAppender's.
 */
@Injectable()
export class AuditRepository {
  constructor(private readonly prisma: PrismaService) {}

  /** Rows of one connection after `afterId`, oldest first (keyset). */
  async page(query: {
    connectionId?: string;
    tenants?: readonly string[];
    afterId?: bigint;
    limit: number;
  }): Promise<AuditRecord[]> {
    const rows = await this.prisma.auditEvent.findMany({
      where: {
        ...(query.connectionId !== undefined && { connectionId: query.connectionId }),
        ...(query.tenants?.length && { tenantId: { in: [...query.tenants] } }),
        ...(query.afterId !== undefined && { id: { gt: query.afterId } }),
      },
      orderBy: { id: 'asc' },
      take: query.limit,
      include: { batch: { select: { seq: true } } },
    });
    return rows.map((row) => ({
      id: row.id,
      action: row.action as AuditAction,
      ...(row.connectionId !== null && { connectionId: row.connectionId }),
      ...(row.tenantId !== null && { tenantId: row.tenantId }),
      ...(row.serviceKeyId !== null && { serviceKeyId: row.serviceKeyId }),
      ...(row.requestId !== null && { requestId: row.requestId }),
      ...(row.tokenFingerprint !== null && { tokenFingerprint: row.tokenFingerprint }),
      ...(row.detail !== null && { detail: row.detail as AuditEntry['detail'] }),
      at: row.createdAt,
      ...(row.batch && { batchSeq: row.batch.seq }),
    }));
  }

  /** The chain in order from `afterSeq`, each batch with the digest of its rows as stored now. */
  async batchesForVerify(afterSeq: bigint, limit: number): Promise<AuditBatchCheck[]> {
    const rows = await this.prisma.$queryRaw<
      {
        seq: bigint;
        prev_hash: Uint8Array;
        hash: Uint8Array;
        row_count: number;
        stored_rows: number;
        digest: Uint8Array | null;
      }[]
    >`
      SELECT b.seq, b.prev_hash, b.hash, b.row_count, d.n AS stored_rows, d.digest
      FROM audit_batches b
      CROSS JOIN LATERAL (
        SELECT count(*)::int AS n, sha256(convert_to(string_agg(
          audit_event_text(e.id, e.action, e.connection_id, e.tenant_id, e.service_key_id,
                           e.request_id, e.token_fingerprint, e.detail, e.created_at),
          E'\n' ORDER BY e.id), 'UTF8')) AS digest
        FROM audit_events e WHERE e.batch_id = b.id
      ) d
      WHERE b.seq > ${afterSeq}
      ORDER BY b.seq
      LIMIT ${limit}`;
    return rows.map((row) => ({
      seq: row.seq,
      prevHash: Buffer.from(row.prev_hash),
      hash: Buffer.from(row.hash),
      rowCount: row.row_count,
      storedRows: row.stored_rows,
      digest: row.digest ? Buffer.from(row.digest) : null,
    }));
  }

  /** Retention: removes whole batches created before `cutoff`, oldest first (see audit_purge). */
  async purgeBefore(cutoff: Date, maxBatches: number): Promise<number> {
    const [row] = await this.prisma.$queryRaw<{ purged: number }[]>`
      SELECT audit_purge(${cutoff}::timestamptz, ${maxBatches}::int) AS purged`;
    return row?.purged ?? 0;
  }
}
