import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Secret } from '../../src/common/secret.js';
import { isDatabaseUnavailable } from '../../src/common/errors/dependency-errors.js';
import { Prisma } from '../../src/infra/prisma/generated/client.js';
import { DatabaseStatementError, PrismaService } from '../../src/infra/prisma/prisma.service.js';
import { contentHash } from '../../src/sync/canonical-json.js';
import { RecordsRepository } from '../../src/sync/records.repository.js';
import { ExecutionStopped, type FetchedRecord, type SyncRun } from '../../src/sync/sync-run.js';
import { withDb } from '../support/db.js';
import { testPrisma } from '../support/infra.js';
import { testEnv } from '../support/test-env.js';

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

  describe('a statement past the bound (statement_timeout, here 300 ms)', () => {
    let bounded: PrismaService;
    beforeAll(() => {
      bounded = new PrismaService(
        { databaseUrl: new Secret(testEnv().databaseUrl) },
        { statementTimeoutMs: 300 },
      );
    });
    afterAll(() => bounded.$disconnect());

    /** What the sync runner decides on: a wait, as for an outage (RunEndings.waitForDatabase). */
    const expectTimedOut = (error: unknown) => {
      expect(error).toBeInstanceOf(DatabaseStatementError);
      expect((error as Error).cause).toMatchObject({ code: '57014' });
      expect(isDatabaseUnavailable(error)).toBe(true);
    };

    it('fails a page write stuck behind the run row lock, and writes nothing', async () => {
      const before = { rows: await stored(), counters: await counters() };
      const slow = new RecordsRepository(bounded);
      await withDb(async (holder) => {
        await holder.query('BEGIN');
        await holder.query('SELECT 1 FROM sync_runs WHERE id = $1 FOR UPDATE', [run.id]);
        try {
          const started = Date.now();
          // With and without deletions: one statement, and a transaction of the page's own.
          for (const page of [[contact(7)], [contact(8), gone(1)]]) {
            const error = await slow
              .commitPage(run, page, { cursor: 'stuck' })
              .catch((e: unknown) => e);
            expectTimedOut(error);
          }
          expect(Date.now() - started).toBeLessThan(5_000);
        } finally {
          await holder.query('ROLLBACK');
        }
      });
      expect({ rows: await stored(), counters: await counters() }).toEqual(before);
      // Prisma's own connections never carry the bound (direct() has connections of its own).
      const settings = await Promise.all(
        Array.from(
          { length: 10 },
          () => bounded.$queryRaw<Array<{ statement_timeout: string }>>`SHOW statement_timeout`,
        ),
      );
      expect(new Set(settings.map(([row]) => row?.statement_timeout))).toEqual(new Set(['0']));
    });

    it('bounds every statement of direct(), in a transaction or not', async () => {
      const sleep = Prisma.sql`SELECT pg_sleep(2)`;
      expectTimedOut(await bounded.direct((db) => db(sleep)).catch((e: unknown) => e));
      expectTimedOut(
        await bounded
          .direct(
            async (db) => {
              await db(Prisma.sql`SELECT 1`);
              return db(sleep);
            },
            { transaction: true },
          )
          .catch((e: unknown) => e),
      );
      // A statement within the bound still runs.
      expect(await bounded.direct((db) => db<{ ok: number }>(Prisma.sql`SELECT 1 AS ok`))).toEqual([
        { ok: 1 },
      ]);
    });
  });
});
