import { Injectable } from '@nestjs/common';
import { Prisma } from '../infra/prisma/generated/client.js';
import { type DirectQuery, PrismaService } from '../infra/prisma/prisma.service.js';
import { pageRowsJson } from './page-rows.js';
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
    const page = {
      fetched: records.length,
      pages: 1,
      checkpoint: next === undefined ? null : JSON.stringify(next),
    };
    // Not through Prisma's raw queries, which keep a page reachable long
    // after it is written (PrismaService.direct says how).
    // The common case, one statement and no transaction of ours around it.
    if (!gone.length) return this.prisma.direct((db) => this.writePage(db, run, live, [], page));
    const liveIds = new Set(live.map((r) => r.externalId));
    const both = gone.some((id) => liveIds.has(id));
    return this.prisma.direct(
      async (db) => {
        if (!both) return this.writePage(db, run, live, gone, page);
        // An item both kept and deleted in one page: one statement cannot write
        // a row twice, so it is upserted, then deleted, as it always was.
        const kept = await this.writePage(db, run, live, [], page);
        const { deleted } = await this.writePage(db, run, [], gone, {
          ...page,
          fetched: 0,
          pages: 0,
        });
        return { upserted: kept.upserted, deleted };
      },
      { transaction: true },
    );
  }

  /**
   * A page in one statement: the fence, the upsert, the "seen by this full
   * run" stamp, the deletions, and the run's checkpoint and counters. Every
   * record is reached through ON CONFLICT's arbiter (the primary key), never
   * through a plan: without statistics the planner may take the
   * (connection, model, modified_at) index for a lookup by id and read every
   * record of the connection, so a page would cost what the table holds.
   * Deletions (`gone`) insert a stray row for an id never stored; it is
   * removed at once, so `db` must then be a transaction.
   */
  private async writePage(
    db: DirectQuery,
    run: SyncRun,
    live: FetchedRecord[],
    gone: string[],
    page: { fetched: number; pages: number; checkpoint: string | null },
  ): Promise<PageResult> {
    const target = Prisma.sql`
      INSERT INTO records (connection_id, model, external_id, data, content_hash, provider_updated_at, modified_at, last_seen_run_id)`;
    const rows = Prisma.sql`
      SELECT ${run.connectionId}::uuid, ${run.model}, p.id, p.data, p.hash, p.updated, clock_timestamp(), ${seenBy(run)}::uuid`;
    // Seen by a full run but unchanged (so stored, and not in written): only the stamp for deletion detection moves.
    const seenCte = Prisma.sql`
      seen AS (
        ${target} ${rows} FROM page p
        WHERE p.id NOT IN (SELECT external_id FROM written)
        ON CONFLICT (connection_id, model, external_id) DO UPDATE SET last_seen_run_id = EXCLUDED.last_seen_run_id
        WHERE records.last_seen_run_id IS DISTINCT FROM EXCLUDED.last_seen_run_id
        RETURNING 1
      ),`;
    // A stray (an id never stored) has an empty content hash, which no record has.
    const deletedCte = Prisma.sql`
      deleted AS (
        INSERT INTO records (connection_id, model, external_id, data, content_hash, modified_at, deleted_at)
        SELECT ${run.connectionId}::uuid, ${run.model}, g.id, 'null'::jsonb, '', clock_timestamp(), clock_timestamp()
        FROM unnest(${gone}::text[]) AS g(id)
        WHERE EXISTS (SELECT 1 FROM claim)
        ON CONFLICT (connection_id, model, external_id) DO UPDATE SET
          deleted_at = clock_timestamp(), modified_at = clock_timestamp()
        WHERE records.deleted_at IS NULL
        RETURNING ctid::text AS at, content_hash = '' AS stray
      ),`;
    const noneDeleted = Prisma.sql`deleted AS (SELECT NULL::text AS at, false AS stray WHERE false),`;
    const [row] = await db<{
      claimed: number;
      upserted: number;
      deleted: number;
      strays: string[];
    }>(
      Prisma.sql`
      WITH claim AS (${claimSql(run)}),
      page AS (
        SELECT p.id, p.data, p.hash, p.updated
        FROM json_to_recordset(${pageRowsJson(live)}::json) AS p(id text, data jsonb, hash text, updated timestamptz)
        WHERE EXISTS (SELECT 1 FROM claim)
      ),
      -- Unchanged content (same hash, not deleted) is not rewritten; RETURNING lists what was.
      written AS (
        ${target} ${rows} FROM page p
        ON CONFLICT (connection_id, model, external_id) DO UPDATE SET
          data = EXCLUDED.data, content_hash = EXCLUDED.content_hash, provider_updated_at = EXCLUDED.provider_updated_at,
          modified_at = EXCLUDED.modified_at, deleted_at = NULL,
          last_seen_run_id = COALESCE(EXCLUDED.last_seen_run_id, records.last_seen_run_id)
        WHERE records.content_hash IS DISTINCT FROM EXCLUDED.content_hash OR records.deleted_at IS NOT NULL
        RETURNING external_id
      ),
      ${run.full ? seenCte : Prisma.empty}
      ${gone.length ? deletedCte : noneDeleted}
      counts AS (
        SELECT (SELECT count(*) FROM written)::int AS upserted,
               (SELECT count(*) FROM deleted WHERE NOT stray)::int AS deleted,
               (SELECT coalesce(array_agg(at), '{}') FROM deleted WHERE stray) AS strays
      ),
      advanced AS (
        UPDATE sync_runs r SET checkpoint = ${page.checkpoint}::jsonb,
          pages = r.pages + ${page.pages}::int,
          records_fetched = r.records_fetched + ${page.fetched}::int,
          records_upserted = r.records_upserted + counts.upserted,
          records_deleted = r.records_deleted + counts.deleted
        FROM claim, counts WHERE r.id = claim.id
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM advanced)::int AS claimed, counts.upserted, counts.deleted, counts.strays
      FROM counts`,
    );
    if (row?.claimed !== 1) throw new ExecutionStopped(run.id);
    if (row.strays.length)
      await db(Prisma.sql`DELETE FROM records WHERE ctid = ANY(${row.strays}::tid[])`);
    return { upserted: row.upserted, deleted: row.deleted };
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
  const claimed = await tx.$queryRaw<Array<{ id: string }>>`${claimSql(run)}`;
  if (claimed.length !== 1) throw new ExecutionStopped(run.id);
}

/** The fence's query: the run's row, locked, if it may still commit (see claimCommit). */
function claimSql(run: SyncRun): Prisma.Sql {
  return Prisma.sql`
    SELECT r.id FROM sync_runs r JOIN connections c ON c.id = r.connection_id
    WHERE r.id = ${run.id}::uuid AND r.status = 'running' AND c.status = 'active'
      AND r.execution_id IS NOT DISTINCT FROM ${run.executionId ?? null}::uuid
    FOR UPDATE OF r`;
}
