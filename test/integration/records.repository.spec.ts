import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { PrismaService } from '../../src/infra/prisma/prisma.service.js';
import { contentHash } from '../../src/sync/canonical-json.js';
import { RecordsRepository } from '../../src/sync/records.repository.js';
import { ExecutionStopped, type FetchedRecord, type SyncRun } from '../../src/sync/sync-run.js';
import { withDb } from '../support/db.js';
import { testPrisma } from '../support/infra.js';

const contact = (n: number, extra: Record<string, unknown> = {}): FetchedRecord => ({
  externalId: `co_${n}`,
  data: {
    name: `Contact ${n}`,
    id: `co_${n}`,
    tags: ['b', 'a'],
    nested: { z: n, a: null },
    ...extra,
  },
  providerUpdatedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)),
  deleted: false,
});
const gone = (n: number): FetchedRecord => ({ externalId: `co_${n}`, data: {}, deleted: true });

/**
 * commitPage on PostgreSQL: a page's records (through PrismaService.direct,
 * not Prisma's raw queries) and the run's counters and checkpoint, in one
 * statement, or one transaction when the page deletes.
 */
describe('RecordsRepository.commitPage on PostgreSQL', () => {
  let prisma: PrismaService;
  let records: RecordsRepository;
  const connectionId = randomUUID();
  const executionId = randomUUID();
  let run: SyncRun;

  const stored = () =>
    withDb(async (db) => {
      const { rows } = await db.query<{
        external_id: string;
        data: unknown;
        content_hash: string;
        provider_updated_at: Date | null;
        deleted: boolean;
      }>(
        `SELECT external_id, data, content_hash, provider_updated_at, deleted_at IS NOT NULL AS deleted
         FROM records WHERE connection_id = $1 ORDER BY external_id`,
        [connectionId],
      );
      return rows;
    });
  const counters = () =>
    withDb(async (db) => {
      const { rows } = await db.query<Record<string, unknown>>(
        `SELECT pages, records_fetched, records_upserted, records_deleted, checkpoint
         FROM sync_runs WHERE id = $1`,
        [run.id],
      );
      return rows[0];
    });

  beforeAll(async () => {
    prisma = testPrisma();
    records = new RecordsRepository(prisma);
    run = {
      id: randomUUID(),
      connectionId,
      model: 'contacts',
      status: 'running',
      trigger: 'manual',
      full: false,
      recordsFetched: 0,
      recordsUpserted: 0,
      recordsDeleted: 0,
      pages: 0,
      executions: 1,
      attemptsMade: 0,
      executionId,
      createdAt: new Date(),
    };
    await withDb(async (db) => {
      await db.query(
        `INSERT INTO connections (id, tenant_id, integration_key, provider, status, account_id, scopes, updated_at)
         VALUES ($1, $2, 'crm', 'oauth2', 'active', $3, '{}', now())`,
        [connectionId, `records-${connectionId}`, `account-${connectionId}`],
      );
      await db.query(
        `INSERT INTO sync_runs (id, connection_id, model, status, trigger, "full", execution_id, started_at)
         VALUES ($1, $2, 'contacts', 'running', 'manual', false, $3, now())`,
        [run.id, connectionId, executionId],
      );
    });
  });

  afterAll(async () => {
    await withDb(async (db) => {
      await db.query('DELETE FROM records WHERE connection_id = $1', [connectionId]);
      await db.query('DELETE FROM connections WHERE id = $1', [connectionId]);
    });
    await prisma.$disconnect();
  });

  it('stores the provider data, its content hash and time, and advances the run', async () => {
    const page = [contact(1), contact(2), contact(1, { name: 'Contact 1, the last copy' })];
    expect(await records.commitPage(run, page, { cursor: 'co_2' })).toEqual({
      upserted: 2,
      deleted: 0,
    });
    const rows = await stored();
    expect(rows.map((r) => r.external_id)).toEqual(['co_1', 'co_2']);
    expect(rows[0]).toMatchObject({
      data: page[2]!.data,
      content_hash: contentHash(page[2]!.data),
      provider_updated_at: new Date(Date.UTC(2026, 0, 1, 0, 0, 1)),
      deleted: false,
    });
    expect(await counters()).toEqual({
      pages: 1,
      records_fetched: 3,
      records_upserted: 2,
      records_deleted: 0,
      checkpoint: { cursor: 'co_2' },
    });

    // The same content again (keys in another order) is not rewritten.
    const reordered: FetchedRecord = {
      ...contact(2),
      data: Object.fromEntries(Object.entries(contact(2).data).reverse()),
    };
    expect(await records.commitPage(run, [reordered], undefined)).toEqual({
      upserted: 0,
      deleted: 0,
    });
  });

  it('deletes in the same transaction, an item both kept and deleted in one page included', async () => {
    // co_2 stored and now gone; co_3 new and gone in the same page; co_9 never stored.
    const result = await records.commitPage(
      run,
      [contact(3), gone(2), gone(3), gone(9), contact(4)],
      { cursor: 'co_4' },
    );
    expect(result).toEqual({ upserted: 2, deleted: 2 });
    const rows = await stored();
    expect(rows.map((r) => [r.external_id, r.deleted])).toEqual([
      ['co_1', false],
      ['co_2', true],
      ['co_3', true],
      ['co_4', false],
    ]);
    expect(await counters()).toMatchObject({ pages: 3, records_deleted: 2 });
  });

  it('writes nothing for an execution that may no longer commit, with or without deletions', async () => {
    const superseded = { ...run, executionId: randomUUID() };
    const before = { rows: await stored(), counters: await counters() };
    await expect(records.commitPage(superseded, [contact(5)], undefined)).rejects.toBeInstanceOf(
      ExecutionStopped,
    );
    await expect(
      records.commitPage(superseded, [contact(6), gone(6), gone(1)], undefined),
    ).rejects.toBeInstanceOf(ExecutionStopped);
    expect({ rows: await stored(), counters: await counters() }).toEqual(before);
  });
});
