import { Injectable } from '@nestjs/common';
import { Prisma } from '../infra/prisma/generated/client.js';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import { decodeBatch } from './audit-batch-format.js';
import type { AuditEntry } from './audit-entry.js';

export type { AuditAction, AuditEntry } from './audit-entry.js';

/** One stored audit row, as `GET /v1/audit` pages through them. */
export interface AuditRecord extends Omit<AuditEntry, 'at'> {
  id: bigint;
  at: Date;
  batchSeq?: bigint;
}

/** A chained batch with the digest of its events as stored now (for `audit verify`). */
export interface AuditBatchCheck {
  seq: bigint;
  prevHash: Buffer;
  hash: Buffer;
  rowCount: number;
  /** Lines in its events text now. */
  storedRows: number;
  digest: Buffer | null;
}

/** Batches read per query while paging. */
const BATCHES_PER_READ = 100;

interface BatchRow {
  seq: bigint | null;
  format: number;
  first_event_id: bigint;
  events: string;
}

/**
 * The read side of the append-only, hash-chained audit trail: paging,
 * verifying and purging. Appends are AuditAppender's. Events live inside
 * their batch row (audit-batch-format.ts): paging finds the batches by
 * index and decodes their events here.
 */
@Injectable()
export class AuditRepository {
  constructor(private readonly prisma: PrismaService) {}

  /**
   * Events after `afterId`, oldest first (keyset on the event id), of one
   * connection and of the given tenants when asked. Batches are read in
   * first_event_id order from the first one that may hold an id after the
   * cursor. Format 1 batches may interleave their ids, so reading stops only
   * once `limit` events are found and the next batch starts past the last
   * of them.
   */
  async page(query: {
    connectionId?: string;
    tenants?: readonly string[];
    afterId?: bigint;
    limit: number;
  }): Promise<AuditRecord[]> {
    const after = query.afterId ?? 0n;
    // As stored: lowercase (a uuid column compared case-insensitively before).
    const connectionId = query.connectionId?.toLowerCase();
    const filters = Prisma.sql`
      ${connectionId !== undefined ? Prisma.sql`AND b.connection_ids @> ARRAY[${connectionId}::uuid]` : Prisma.empty}
      ${query.tenants?.length ? Prisma.sql`AND b.tenant_ids && ${[...query.tenants]}::text[]` : Prisma.empty}`;
    const tenants = query.tenants?.length ? new Set(query.tenants) : undefined;
    const found: AuditRecord[] = [];
    let from = Prisma.sql`b.first_event_id >= ${await this.firstBatchFrom(after)}::bigint`;
    for (;;) {
      const batches = await this.prisma.$queryRaw<BatchRow[]>`
        SELECT b.seq, b.format, b.first_event_id, b.events FROM audit_batches b
        WHERE ${from} ${filters}
        ORDER BY b.first_event_id
        LIMIT ${BATCHES_PER_READ}::int`;
      for (const batch of batches) {
        if (found.length >= query.limit) {
          found.sort((a, b) => (a.id < b.id ? -1 : 1)).length = query.limit;
          if (found.at(-1)!.id < batch.first_event_id) return found;
        }
        for (const event of decodeBatch({ ...batch, firstEventId: batch.first_event_id })) {
          if (event.id <= after) continue;
          if (connectionId !== undefined && event.connectionId !== connectionId) continue;
          if (tenants && (event.tenantId === undefined || !tenants.has(event.tenantId))) continue;
          found.push(batch.seq === null ? event : { ...event, batchSeq: batch.seq });
        }
      }
      if (batches.length < BATCHES_PER_READ) break;
      from = Prisma.sql`b.first_event_id > ${batches.at(-1)!.first_event_id}::bigint`;
    }
    return found.sort((a, b) => (a.id < b.id ? -1 : 1)).slice(0, query.limit);
  }

  /**
   * The lowest first_event_id of a batch that may hold an id after `after`:
   * the last batch starting at or before it (a format 2 batch spanning the
   * cursor), or a format 1 batch whose id range spans it (GiST index).
   */
  private async firstBatchFrom(after: bigint): Promise<bigint> {
    const [row] = await this.prisma.$queryRaw<{ first: bigint }[]>`
      SELECT least(
        (SELECT max(first_event_id) FROM audit_batches WHERE first_event_id <= ${after}::bigint),
        (SELECT min(first_event_id) FROM audit_batches
         WHERE format = 1 AND int8range(first_event_id, last_event_id, '[]') @> (${after}::bigint + 1)),
        ${after}::bigint + 1
      ) AS first`;
    return row!.first;
  }

  /** The chain in order from `afterSeq`, each batch with the digest of its events as stored now. */
  async batchesForVerify(afterSeq: bigint, limit: number): Promise<AuditBatchCheck[]> {
    const rows = await this.prisma.$queryRaw<
      {
        seq: bigint;
        prev_hash: Uint8Array;
        hash: Uint8Array;
        row_count: number;
        stored_rows: number;
        digest: Uint8Array;
      }[]
    >`
      SELECT b.seq, b.prev_hash, b.hash, b.row_count,
        CASE WHEN b.events = '' THEN 0
             ELSE length(b.events) - length(replace(b.events, chr(10), '')) + 1 END AS stored_rows,
        audit_batch_digest(b.format, b.first_event_id, b.events) AS digest
      FROM audit_batches b
      WHERE b.seq > ${afterSeq}
      ORDER BY b.seq
      LIMIT ${limit}`;
    return rows.map((row) => ({
      seq: row.seq,
      prevHash: Buffer.from(row.prev_hash),
      hash: Buffer.from(row.hash),
      rowCount: row.row_count,
      storedRows: row.stored_rows,
      digest: Buffer.from(row.digest),
    }));
  }

  /** Where the chain ends: the seq and hash of the newest committed batch (0 and zeros before the first). */
  async chainHead(): Promise<{ seq: bigint; hash: Buffer }> {
    const [row] = await this.prisma.$queryRaw<{ seq: bigint; hash: Uint8Array }[]>`
      SELECT seq, hash FROM audit_chain_head WHERE id = 1`;
    if (!row) throw new Error('audit_chain_head has no row: the audit migration did not run');
    return { seq: row.seq, hash: Buffer.from(row.hash) };
  }

  /** Retention: removes whole batches created before `cutoff`, oldest first (see audit_purge). */
  async purgeBefore(cutoff: Date, maxBatches: number): Promise<number> {
    const [row] = await this.prisma.$queryRaw<{ purged: number }[]>`
      SELECT audit_purge(${cutoff}::timestamptz, ${maxBatches}::int) AS purged`;
    return row?.purged ?? 0;
  }
}
