import { Injectable } from '@nestjs/common';
import { Prisma } from '../infra/prisma/generated/client.js';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import { decodeBatch } from './audit-batch-format.js';
import type { AuditRecord } from './audit-entry.js';

export type { AuditAction, AuditEntry, AuditRecord } from './audit-entry.js';

/** A chained batch with the digest of its events as stored now (for `audit verify`). */
export interface AuditBatchCheck {
  seq: bigint;
  prevHash: Buffer;
  hash: Buffer;
  rowCount: number;
  /** Lines in its events text now. */
  storedRows: number;
  digest: Buffer | null;
  /** The columns paging finds events by, as stored. */
  firstEventId: bigint;
  lastEventId: bigint;
  /**
   * Those columns against its events as stored now, read only when its hash
   * matches (then the text is what was appended, so it parses): the lowest
   * and highest event id, and whether connection_ids and tenant_ids hold
   * exactly the distinct connections and tenants of its events.
   */
  events?: { firstId: bigint; lastId: bigint; connectionsMatch: boolean; tenantsMatch: boolean };
}

/** Batches listed per query while paging: ids and sizes only, never their events. */
const BATCHES_PER_LIST = 100;

interface ListedBatch {
  id: bigint;
  seq: bigint | null;
  format: number;
  first_event_id: bigint;
  row_count: number;
}

const byId = (a: AuditRecord, b: AuditRecord): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * How many of `listed` (from the next one to decode) to read the events of:
 * as few as could hold the `wanted` events if all of them matched, but at
 * least twice the previous read, so that a filter matching few events of
 * each batch costs a few round trips, while the texts read stay within
 * about twice as many batches as the page needed. With `wanted` 0 (the page is full, and only a
 * format 1 batch may still hold a lower id) one batch at a time.
 */
function nextRead(listed: readonly ListedBatch[], wanted: number, previous: number): number {
  if (wanted <= 0) return 1;
  let count = 0;
  for (let events = 0; count < listed.length && events < wanted; count += 1)
    events += listed[count]!.row_count;
  return Math.max(1, count, previous * 2);
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
   * connection and of the given tenants when asked. Batches are listed in
   * first_event_id order from the first one that may hold an id after the
   * cursor. Format 1 batches may interleave their ids, so reading stops only
   * once `limit` events are found and the next batch starts past the last
   * of them. The listing carries no events: a batch's text (tens to
   * hundreds of kB, stored out of line) is read only for the batches decoded, a few at
   * a time (nextRead), so a small page reads little.
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
    let read = 0;
    let from = Prisma.sql`b.first_event_id >= ${await this.firstBatchFrom(after)}::bigint`;
    for (;;) {
      const listed = await this.prisma.$queryRaw<ListedBatch[]>`
        SELECT b.id, b.seq, b.format, b.first_event_id, b.row_count FROM audit_batches b
        WHERE ${from} ${filters}
        ORDER BY b.first_event_id
        LIMIT ${BATCHES_PER_LIST}::int`;
      let texts = new Map<bigint, string>();
      for (const [index, batch] of listed.entries()) {
        if (found.length >= query.limit) {
          found.sort(byId).length = query.limit;
          if (found.at(-1)!.id < batch.first_event_id) return found;
        }
        if (!texts.has(batch.id)) {
          read = nextRead(listed.slice(index), query.limit - found.length, read);
          texts = await this.eventsOf(listed.slice(index, index + read));
        }
        // '' for a batch purged by retention since it was listed: no events.
        const events = texts.get(batch.id) ?? '';
        for (const event of decodeBatch({ ...batch, firstEventId: batch.first_event_id, events })) {
          if (event.id <= after) continue;
          if (connectionId !== undefined && event.connectionId !== connectionId) continue;
          if (tenants && (event.tenantId === undefined || !tenants.has(event.tenantId))) continue;
          found.push(batch.seq === null ? event : { ...event, batchSeq: batch.seq });
        }
      }
      if (listed.length < BATCHES_PER_LIST) break;
      from = Prisma.sql`b.first_event_id > ${listed.at(-1)!.first_event_id}::bigint`;
    }
    return found.sort(byId).slice(0, query.limit);
  }

  /** The events text of these batches, by batch id. */
  private async eventsOf(batches: readonly ListedBatch[]): Promise<Map<bigint, string>> {
    const rows = await this.prisma.$queryRaw<{ id: bigint; events: string }[]>`
      SELECT id, events FROM audit_batches
      WHERE id = ANY (${batches.map((batch) => String(batch.id))}::bigint[])`;
    // Every listed batch gets a key, so one purged meanwhile is not read again.
    const texts = new Map<bigint, string>(batches.map((batch) => [batch.id, '']));
    for (const row of rows) texts.set(row.id, row.events);
    return texts;
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

  /**
   * The chain in order from `afterSeq`, each batch with the digest of its
   * events as stored now and, when its hash matches, what its events say of
   * the columns paging relies on (first_event_id of format 1,
   * last_event_id, connection_ids, tenant_ids: none of them is hashed).
   * Computed here, so no events text leaves PostgreSQL.
   */
  async batchesForVerify(afterSeq: bigint, limit: number): Promise<AuditBatchCheck[]> {
    const rows = await this.prisma.$queryRaw<
      {
        seq: bigint;
        prev_hash: Uint8Array;
        hash: Uint8Array;
        row_count: number;
        stored_rows: number;
        digest: Uint8Array;
        first_event_id: bigint;
        last_event_id: bigint;
        events_first_id: bigint | null;
        events_last_id: bigint | null;
        connections_match: boolean | null;
        tenants_match: boolean | null;
      }[]
    >`
      SELECT b.seq, b.prev_hash, b.hash, b.row_count,
        CASE WHEN b.events = '' THEN 0
             ELSE length(b.events) - length(replace(b.events, chr(10), '')) + 1 END AS stored_rows,
        g.digest, b.first_event_id, b.last_event_id,
        e.first_id AS events_first_id, e.last_id AS events_last_id,
        e.connections @> b.connection_ids::text[] AND e.connections <@ b.connection_ids::text[]
          AS connections_match,
        e.tenants @> b.tenant_ids AND e.tenants <@ b.tenant_ids AS tenants_match
      FROM audit_batches b
      CROSS JOIN LATERAL (
        SELECT audit_batch_digest(b.format, b.first_event_id, b.events) AS digest
      ) g
      LEFT JOIN LATERAL (
        SELECT min(l.id) AS first_id, max(l.id) AS last_id,
          coalesce(array_agg(DISTINCT l.connection_id)
            FILTER (WHERE l.connection_id IS NOT NULL), '{}') AS connections,
          coalesce(array_agg(DISTINCT l.tenant_id)
            FILTER (WHERE l.tenant_id IS NOT NULL), '{}') AS tenants
        FROM (
          SELECT CASE b.format WHEN 1 THEN (j->>0)::bigint ELSE b.first_event_id + n - 1 END AS id,
            j->>(k + 1) AS connection_id, j->>(k + 2) AS tenant_id
          FROM unnest(string_to_array(b.events, chr(10))) WITH ORDINALITY AS t(line, n),
            LATERAL (SELECT t.line::jsonb AS j, CASE b.format WHEN 1 THEN 1 ELSE 0 END AS k) p
        ) l
        -- Only text the append wrote is parsed: anything else fails the hash check first.
        WHERE sha256(b.prev_hash || g.digest) = b.hash
        HAVING count(*) > 0
      ) e ON true
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
      firstEventId: row.first_event_id,
      lastEventId: row.last_event_id,
      ...(row.events_first_id !== null &&
        row.events_last_id !== null && {
          events: {
            firstId: row.events_first_id,
            lastId: row.events_last_id,
            connectionsMatch: row.connections_match === true,
            tenantsMatch: row.tenants_match === true,
          },
        }),
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
