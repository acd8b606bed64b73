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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Append-only, hash-chained audit trail in PostgreSQL. */
@Injectable()
export class AuditRepository {
  /** INSERT statements issued (tests count group commits with it). */
  statements = 0;

  constructor(private readonly prisma: PrismaService) {}

  /**
   * One statement per batch, so the batch commits or fails as a whole: the
   * rows travel as one array per column (`unnest`), and the same statement
   * digests them (`audit_event_text`, shared with `audit verify`), moves
   * the chain head and records the batch. The head is a single row: its
   * UPDATE takes a row lock held to commit, so appends from every replica
   * queue behind one another, and a waiting UPDATE re-reads the head that
   * the previous one committed (READ COMMITTED re-evaluates on the newest
   * row version), so each batch chains to the one committed before it.
   */
  async recordMany(entries: readonly AuditEntry[]): Promise<void> {
    if (!entries.length) return;
    this.statements += 1;
    const column = <T>(pick: (entry: AuditEntry) => T) => entries.map(pick);
    await this.prisma.$executeRaw`
      WITH batch AS MATERIALIZED (
        SELECT nextval(pg_get_serial_sequence('audit_batches', 'id')) AS id
      ), rows AS (
        INSERT INTO audit_events (action, connection_id, tenant_id, service_key_id, request_id,
                                  token_fingerprint, detail, created_at, batch_id)
        SELECT u.*, batch.id FROM batch, unnest(
          ${column((e) => e.action)}::text[],
          ${column((e) => uuidOrNull(e.connectionId))}::uuid[],
          ${column((e) => e.tenantId ?? null)}::text[],
          ${column((e) => uuidOrNull(e.serviceKeyId))}::uuid[],
          ${column((e) => e.requestId ?? null)}::text[],
          ${column((e) => e.tokenFingerprint ?? null)}::text[],
          ${column((e) => (e.detail ? JSON.stringify(e.detail) : null))}::jsonb[],
          ${column((e) => e.at)}::timestamptz[]
        ) AS u
        RETURNING id, action, connection_id, tenant_id, service_key_id, request_id,
                  token_fingerprint, detail, created_at
      ), digest AS (
        SELECT count(*)::int AS n, sha256(convert_to(string_agg(
          audit_event_text(id, action, connection_id, tenant_id, service_key_id, request_id,
                           token_fingerprint, detail, created_at), E'\n' ORDER BY id), 'UTF8')) AS d
        FROM rows
      ), head AS (
        UPDATE audit_chain_head h
        SET seq = h.seq + 1, prev_hash = h.hash, hash = sha256(h.hash || digest.d)
        FROM digest WHERE h.id = 1
        RETURNING h.seq, h.prev_hash, h.hash
      )
      INSERT INTO audit_batches (id, seq, prev_hash, hash, row_count)
      SELECT batch.id, head.seq, head.prev_hash, head.hash, digest.n FROM batch, head, digest`;
  }

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

/** Ids from a URL (a refused read) may be anything: only a UUID fits the column. */
function uuidOrNull(value: string | undefined): string | null {
  return value !== undefined && UUID.test(value) ? value.toLowerCase() : null;
}
