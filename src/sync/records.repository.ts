import { Injectable } from '@nestjs/common';
import { Prisma } from '../infra/prisma/generated/client.js';
import { PrismaService } from '../infra/prisma/prisma.service.js';
import { contentHash } from './canonical-json.js';
import { syncEvent } from './sync-events.js';
import { type Checkpoint, ExecutionStopped, type FetchedRecord, type SyncRun } from './sync-run.js';

export interface StoredRecord {
  externalId: string;
  data: unknown;
  providerUpdatedAt?: Date;
  modifiedAt: Date;
  deletedAt?: Date;
}

export interface PageResult {
  upserted: number;
  deleted: number;
}

/**
 * Synced records and the checkpoints that go with them. A page's records
 * and the run's checkpoint are written in one transaction: a run killed at
 * any moment resumes after the last committed page, with no gap and no
 * duplicate.
 */
export interface RecordListOptions {
  /** The keyset position: records after this one. */
  after?: { modifiedAt: Date; externalId: string };
  modifiedAfter?: Date;
  limit: number;
}

@Injectable()
export class RecordsRepository {
  constructor(private readonly prisma: PrismaService) {}

  async commitPage(
    run: SyncRun,
    records: FetchedRecord[],
    next: Checkpoint | undefined,
  ): Promise<PageResult> {
    const live = dedupe(records.filter((r) => !r.deleted));
    const gone = dedupe(records.filter((r) => r.deleted)).map((r) => r.externalId);
    return this.prisma.$transaction(async (tx) => {
      await claimCommit(tx, run);
      let upserted = 0;
      if (live.length) {
        // Unchanged content (same hash, not deleted) is not rewritten; RETURNING lists what was.
        const written = await tx.$queryRaw<Array<{ external_id: string }>>`
          INSERT INTO records (connection_id, model, external_id, data, content_hash, provider_updated_at, modified_at, last_seen_run_id)
          SELECT ${run.connectionId}::uuid, ${run.model}, r.id, r.data, r.hash, r.updated, clock_timestamp(), ${seenBy(run)}::uuid
          FROM unnest(${live.map((r) => r.externalId)}::text[], ${live.map((r) => JSON.stringify(r.data))}::jsonb[],
                      ${live.map((r) => contentHash(r.data))}::text[], ${live.map((r) => r.providerUpdatedAt ?? null)}::timestamptz[])
            AS r(id, data, hash, updated)
          ON CONFLICT (connection_id, model, external_id) DO UPDATE SET
            data = EXCLUDED.data, content_hash = EXCLUDED.content_hash, provider_updated_at = EXCLUDED.provider_updated_at,
            modified_at = EXCLUDED.modified_at, deleted_at = NULL,
            last_seen_run_id = COALESCE(EXCLUDED.last_seen_run_id, records.last_seen_run_id)
          WHERE records.content_hash IS DISTINCT FROM EXCLUDED.content_hash OR records.deleted_at IS NOT NULL
          RETURNING external_id`;
        upserted = written.length;
        if (run.full) {
          // Seen but unchanged: only the bookkeeping for deletion detection moves.
          await tx.$executeRaw`
            UPDATE records SET last_seen_run_id = ${run.id}::uuid
            WHERE connection_id = ${run.connectionId}::uuid AND model = ${run.model}
              AND external_id = ANY(${live.map((r) => r.externalId)}::text[])
              AND last_seen_run_id IS DISTINCT FROM ${run.id}::uuid`;
        }
      }
      let deleted = 0;
      if (gone.length) {
        deleted = await tx.$executeRaw`
          UPDATE records SET deleted_at = clock_timestamp(), modified_at = clock_timestamp()
          WHERE connection_id = ${run.connectionId}::uuid AND model = ${run.model}
            AND external_id = ANY(${gone}::text[]) AND deleted_at IS NULL`;
      }
      await tx.syncRun.update({
        where: { id: run.id },
        data: {
          checkpoint: (next ?? Prisma.DbNull) as Prisma.InputJsonValue,
          pages: { increment: 1 },
          recordsFetched: { increment: records.length },
          recordsUpserted: { increment: upserted },
          recordsDeleted: { increment: deleted },
        },
      });
      return { upserted, deleted };
    });
  }

  /**
   * Ends a run successfully, in one transaction: after a full run, records it
   * did not see are marked deleted; the watermark advances; the connection's
   * lastSyncAt and the sync.succeeded event are written.
   */
  async completeRun(
    run: SyncRun,
    watermark: string | undefined,
    attemptsMade: number,
    at: Date,
  ): Promise<SyncRun> {
    return this.prisma.$transaction(async (tx) => {
      await claimCommit(tx, run);
      let deleted = 0;
      if (run.full) {
        deleted = await tx.$executeRaw`
          UPDATE records SET deleted_at = clock_timestamp(), modified_at = clock_timestamp()
          WHERE connection_id = ${run.connectionId}::uuid AND model = ${run.model} AND deleted_at IS NULL
            AND last_seen_run_id IS DISTINCT FROM ${run.id}::uuid`;
      }
      const row = await tx.syncRun.update({
        where: { id: run.id },
        data: {
          status: 'succeeded',
          finishedAt: at,
          attemptsMade,
          recordsDeleted: { increment: deleted },
          checkpoint: Prisma.DbNull,
        },
      });
      const state = {
        watermark: watermark ?? null,
        lastRunId: run.id,
        lastSuccessAt: at,
        ...(run.full ? { lastFullSyncAt: at } : {}),
      };
      await tx.syncState.upsert({
        where: { connectionId_model: { connectionId: run.connectionId, model: run.model } },
        create: { connectionId: run.connectionId, model: run.model, ...state },
        update: watermark ? state : { ...state, watermark: undefined },
      });
      const connection = await tx.connection.update({
        where: { id: run.connectionId },
        data: { lastSyncAt: at },
      });
      await tx.event.create({
        data: syncEvent('sync.succeeded', run, connection.tenantId, {
          recordsFetched: row.recordsFetched,
          recordsUpserted: row.recordsUpserted,
          recordsDeleted: row.recordsDeleted,
        }),
      });
      return {
        ...run,
        status: 'succeeded',
        recordsFetched: row.recordsFetched,
        recordsUpserted: row.recordsUpserted,
        recordsDeleted: row.recordsDeleted,
      };
    });
  }

  /** Records in a stable order (modification time, then id), after a keyset position. */
  async list(
    connectionId: string,
    model: string,
    options: RecordListOptions,
  ): Promise<StoredRecord[]> {
    const where: Prisma.RecordWhereInput = { connectionId, model };
    const and: Prisma.RecordWhereInput[] = [];
    if (options.modifiedAfter) and.push({ modifiedAt: { gt: options.modifiedAfter } });
    if (options.after) {
      and.push({
        OR: [
          { modifiedAt: { gt: options.after.modifiedAt } },
          { modifiedAt: options.after.modifiedAt, externalId: { gt: options.after.externalId } },
        ],
      });
    }
    if (and.length) where.AND = and;
    const rows = await this.prisma.record.findMany({
      where,
      orderBy: [{ modifiedAt: 'asc' }, { externalId: 'asc' }],
      take: options.limit,
    });
    return rows.map((row) => {
      const record: StoredRecord = {
        externalId: row.externalId,
        data: row.data,
        modifiedAt: row.modifiedAt,
      };
      if (row.providerUpdatedAt) record.providerUpdatedAt = row.providerUpdatedAt;
      if (row.deletedAt) record.deletedAt = row.deletedAt;
      return record;
    });
  }
}

/** Full runs stamp what they see; incremental runs leave the stamp alone. */
function seenBy(run: SyncRun): string | null {
  return run.full ? run.id : null;
}

/** A provider may repeat an item within a page; the last copy wins. */
function dedupe(records: FetchedRecord[]): FetchedRecord[] {
  return [...new Map(records.map((r) => [r.externalId, r])).values()];
}

/**
 * The fence of every commit, first in its transaction: the run row is locked
 * and must still be running under this execution, for an active connection.
 * Otherwise the transaction rolls back, so a superseded execution (its job
 * re-queued after Redis lost it), a cancelled run or a disconnected
 * connection writes nothing, counts nothing and emits nothing.
 */
async function claimCommit(tx: Prisma.TransactionClient, run: SyncRun): Promise<void> {
  const claimed = await tx.$queryRaw<Array<{ id: string }>>`
    SELECT r.id FROM sync_runs r JOIN connections c ON c.id = r.connection_id
    WHERE r.id = ${run.id}::uuid AND r.status = 'running' AND c.status = 'active'
      AND r.execution_id IS NOT DISTINCT FROM ${run.executionId ?? null}::uuid
    FOR UPDATE OF r`;
  if (claimed.length !== 1) throw new ExecutionStopped(run.id);
}
