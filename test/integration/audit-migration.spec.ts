import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { copyFileSync, cpSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { AuditAppender } from '../../src/audit/audit-appender.js';
import { type AuditRecord, AuditRepository } from '../../src/audit/audit.repository.js';
import { Secret } from '../../src/common/secret.js';
import { PrismaService } from '../../src/infra/prisma/prisma.service.js';
import { cli } from '../support/cli.js';
import { createScratchDatabase, withDb } from '../support/db.js';

const MIGRATION = '20261205061228_audit_batches_hold_events';
const migrations = path.resolve('prisma/migrations');

/**
 * The append of the one-row-per-event schema (the migration before
 * MIGRATION), with the event ids passed in: concurrent appends took
 * interleaved ids from one sequence, and this lets the test write such
 * batches on purpose. Its digest and chain step are that version's, so the
 * hashes are the ones a database of that version holds.
 */
const PREVIOUS_APPEND = `
  WITH batch AS MATERIALIZED (
    SELECT nextval(pg_get_serial_sequence('audit_batches', 'id')) AS id
  ), rows AS (
    INSERT INTO audit_events (id, action, connection_id, tenant_id, service_key_id, request_id,
                              token_fingerprint, detail, created_at, batch_id)
    SELECT u.*, batch.id FROM batch, unnest(
      $1::bigint[], $2::text[], $3::uuid[], $4::text[], $5::uuid[], $6::text[], $7::text[],
      $8::jsonb[], $9::timestamptz[]
    ) AS u
    RETURNING id, action, connection_id, tenant_id, service_key_id, request_id,
              token_fingerprint, detail, created_at
  ), digest AS (
    SELECT count(*)::int AS n, sha256(convert_to(string_agg(
      audit_event_text(id, action, connection_id, tenant_id, service_key_id, request_id,
                       token_fingerprint, detail, created_at), E'\\n' ORDER BY id), 'UTF8')) AS d
    FROM rows
  ), head AS (
    UPDATE audit_chain_head h
    SET seq = h.seq + 1, prev_hash = h.hash, hash = sha256(h.hash || digest.d)
    FROM digest WHERE h.id = 1
    RETURNING h.seq, h.prev_hash, h.hash
  )
  INSERT INTO audit_batches (id, seq, prev_hash, hash, row_count)
  SELECT batch.id, head.seq, head.prev_hash, head.hash, digest.n FROM batch, head, digest`;

interface OldRow {
  id: number;
  action: string;
  connectionId: string | null;
  tenantId: string | null;
  serviceKeyId: string | null;
  requestId: string | null;
  fingerprint: string | null;
  detail: Record<string, unknown> | null;
  at: Date;
}

const DAY = 86_400_000;

/** Applies the migrations in a child process, as deploy does (the Wasm engine leaves timers). */
async function migrate(url: string, dir: string): Promise<void> {
  const script =
    'const [url, dir, module] = process.argv.slice(1)\n' +
    'const { applyMigrations } = await import(module)\n' +
    'await applyMigrations(url, dir)\n' +
    'process.exit(0)';
  await promisify(execFile)(process.execPath, [
    '--input-type=module',
    '-e',
    script,
    // Not first: migrate.mjs runs its command line when argv[1] names it.
    url,
    dir,
    path.resolve('prisma/migrate.mjs'),
  ]);
}

/**
 * A database of the previous version, with events written before the chain
 * existed and chained batches (two of them with interleaved ids), migrated
 * to one row per batch: it verifies, and pages and shows the same events
 * under the same ids.
 */
describe(`the migration ${MIGRATION}`, () => {
  let db: { url: string; drop(): Promise<void> };
  let previousDir: string;
  let prisma: PrismaService;
  let repository: AuditRepository;
  const tenant = `t-${randomUUID()}`;
  const other = `t-${randomUUID()}`;
  const connection = randomUUID();
  const sql = <T extends Record<string, unknown>>(text: string, params: unknown[] = []) =>
    withDb(async (client) => (await client.query<T>(text, params)).rows, db.url);
  /** Every event as the audit_events table (before) or view (after) shows it. */
  const events = () =>
    sql(
      `SELECT e.id, e.action, e.connection_id, e.tenant_id, e.service_key_id, e.request_id,
              e.token_fingerprint, e.detail, e.created_at, e.batch_id, b.seq
       FROM audit_events e LEFT JOIN audit_batches b ON b.id = e.batch_id ORDER BY e.id`,
    );
  let before: Record<string, unknown>[];

  const old = (id: number, over: Partial<OldRow> = {}): OldRow => ({
    id,
    action: 'token.read',
    connectionId: connection,
    tenantId: tenant,
    serviceKeyId: randomUUID(),
    requestId: `req-${id}`,
    fingerprint: `k1:fp-${id}`,
    detail: { refreshed: id % 2 === 0, note: `it's "${id}" ü\\` },
    at: new Date(Date.UTC(2026, 10, 20, 10, 0, 0, id)),
    ...over,
  });
  const appendOld = (rows: OldRow[]) =>
    sql(PREVIOUS_APPEND, [
      rows.map((r) => r.id),
      rows.map((r) => r.action),
      rows.map((r) => r.connectionId),
      rows.map((r) => r.tenantId),
      rows.map((r) => r.serviceKeyId),
      rows.map((r) => r.requestId),
      rows.map((r) => r.fingerprint),
      rows.map((r) => (r.detail ? JSON.stringify(r.detail) : null)),
      rows.map((r) => r.at.toISOString()),
    ]);

  beforeAll(async () => {
    db = await createScratchDatabase('audit_migration', { migrate: false });
    previousDir = mkdtempSync(path.join(tmpdir(), 'tb-previous-migrations-'));
    for (const name of readdirSync(migrations, { withFileTypes: true })) {
      if (name.isDirectory() && name.name < MIGRATION)
        cpSync(path.join(migrations, name.name), path.join(previousDir, name.name), {
          recursive: true,
        });
    }
    copyFileSync(
      path.join(migrations, 'migration_lock.toml'),
      path.join(previousDir, 'migration_lock.toml'),
    );
    await migrate(db.url, previousDir);

    // Before the chain: rows without a batch, 600 of them (two unchained
    // batches after the migration), the first 550 past a year's retention.
    await sql(
      `INSERT INTO audit_events (id, action, tenant_id, connection_id, detail, created_at)
       SELECT i, 'connection.created', $1, $2::uuid, jsonb_build_object('n', i),
              now() - make_interval(days => CASE WHEN i <= 550 THEN 400 ELSE 10 END)
       FROM generate_series(1, 600) i`,
      [tenant, connection],
    );
    await appendOld([old(601), old(602, { connectionId: null, detail: null })]);
    // Two batches written at once: ids interleaved.
    await appendOld([old(603), old(605, { tenantId: other, connectionId: null }), old(607)]);
    await appendOld([old(604, { tenantId: null, serviceKeyId: null }), old(606), old(608)]);
    await appendOld([
      old(609, { action: 'connection.revoked', requestId: null, fingerprint: null }),
    ]);
    before = await events();
    expect(before).toHaveLength(609);

    await migrate(db.url, migrations);
    prisma = new PrismaService({ databaseUrl: new Secret(db.url) });
    repository = new AuditRepository(prisma);
  });

  afterAll(async () => {
    await prisma?.$disconnect();
    await db?.drop();
    if (previousDir) rmSync(previousDir, { recursive: true, force: true });
  });

  it('stores one row per batch, the chained ones with the hashes they had', async () => {
    expect(
      await sql(
        `SELECT seq, format, first_event_id, last_event_id, row_count, hash IS NULL AS unhashed
         FROM audit_batches ORDER BY first_event_id`,
      ),
    ).toEqual([
      {
        seq: null,
        format: 1,
        first_event_id: '1',
        last_event_id: '500',
        row_count: 500,
        unhashed: true,
      },
      {
        seq: null,
        format: 1,
        first_event_id: '501',
        last_event_id: '600',
        row_count: 100,
        unhashed: true,
      },
      {
        seq: '1',
        format: 1,
        first_event_id: '601',
        last_event_id: '602',
        row_count: 2,
        unhashed: false,
      },
      {
        seq: '2',
        format: 1,
        first_event_id: '603',
        last_event_id: '607',
        row_count: 3,
        unhashed: false,
      },
      {
        seq: '3',
        format: 1,
        first_event_id: '604',
        last_event_id: '608',
        row_count: 3,
        unhashed: false,
      },
      {
        seq: '4',
        format: 1,
        first_event_id: '609',
        last_event_id: '609',
        row_count: 1,
        unhashed: false,
      },
    ]);
    const verified = await cli(db.url, 'audit', 'verify');
    expect(verified).toMatchObject({ code: 0, err: '' });
    expect(verified.out).toMatch(/^audit chain ok: 4 batches, seq 1…4 \(from the start\)$/);
  });

  it('shows the same events under the same ids in the audit_events view', async () => {
    expect(await events()).toEqual(before);
  });

  it('pages the same events with the same ids, by connection and by tenant, from any cursor', async () => {
    const expected = (keep: (row: Record<string, unknown>) => boolean) =>
      before.filter(keep).map((row) => String(row.id));
    const ids = (records: AuditRecord[]) => records.map((record) => String(record.id));
    const pageAll = async (query: { connectionId?: string; tenants?: string[] }, limit: number) => {
      const seen: AuditRecord[] = [];
      let afterId: bigint | undefined;
      for (;;) {
        const page = await repository.page({ ...query, afterId, limit });
        seen.push(...page);
        if (page.length < limit) return seen;
        afterId = page.at(-1)!.id;
      }
    };
    expect(ids(await pageAll({}, 7))).toEqual(expected(() => true));
    expect(ids(await pageAll({ connectionId: connection }, 3))).toEqual(
      expected((row) => row.connection_id === connection),
    );
    expect(ids(await pageAll({ tenants: [other] }, 1))).toEqual(['605']);
    // A cursor inside the interleaved batches.
    for (const after of [602n, 603n, 604n, 605n, 606n, 607n])
      expect(ids(await repository.page({ afterId: after, limit: 2 }))).toEqual([
        String(after + 1n),
        String(after + 2n),
      ]);

    const byId = new Map(before.map((row) => [String(row.id), row]));
    for (const record of await repository.page({ afterId: 598n, limit: 100 })) {
      const row = byId.get(String(record.id))!;
      expect({
        action: record.action,
        connection_id: record.connectionId ?? null,
        tenant_id: record.tenantId ?? null,
        service_key_id: record.serviceKeyId ?? null,
        request_id: record.requestId ?? null,
        token_fingerprint: record.tokenFingerprint ?? null,
        detail: record.detail ?? null,
        created_at: record.at,
        seq: record.batchSeq === undefined ? null : String(record.batchSeq),
      }).toEqual({
        action: row.action,
        connection_id: row.connection_id,
        tenant_id: row.tenant_id,
        service_key_id: row.service_key_id,
        request_id: row.request_id,
        token_fingerprint: row.token_fingerprint,
        detail: row.detail,
        created_at: row.created_at,
        seq: row.seq,
      });
    }
  });

  it('appends after them, with ids after the highest, and the chain goes on', async () => {
    const appender = new AuditAppender({ databaseUrl: new Secret(db.url) });
    try {
      await appender.recordMany([
        { action: 'token.read', connectionId: connection, tenantId: tenant, at: new Date() },
        { action: 'token.read', tenantId: tenant, at: new Date() },
      ]);
    } finally {
      await appender.onApplicationShutdown();
    }
    expect(
      await sql('SELECT seq, format, first_event_id, row_count FROM audit_batches WHERE seq = 5'),
    ).toEqual([{ seq: '5', format: 2, first_event_id: '610', row_count: 2 }]);
    expect((await repository.page({ afterId: 608n, limit: 10 })).map((r) => r.id)).toEqual([
      609n,
      610n,
      611n,
    ]);
    expect((await cli(db.url, 'audit', 'verify')).out).toMatch(/^audit chain ok: 5 batches/);
  });

  it('purges unchained batches only once all their events are past the cutoff', async () => {
    const cutoff = new Date(Date.now() - 365 * DAY);
    // 1…500 are all 400 days old, 501…600 partly 10 days: only the first goes.
    expect(await repository.purgeBefore(cutoff, 1_000)).toBe(1);
    const firsts = async () =>
      (await sql('SELECT first_event_id FROM audit_batches ORDER BY first_event_id')).map(
        (row) => row.first_event_id,
      );
    expect(await firsts()).toEqual(['501', '601', '603', '604', '609', '610']);
    await withDb(async (client) => {
      await client.query('SET session_replication_role = replica');
      await client.query(
        `UPDATE audit_batches SET created_at = now() - interval '400 days' WHERE first_event_id = 501`,
      );
    }, db.url);
    expect(await repository.purgeBefore(cutoff, 1_000)).toBe(1);
    // The chained batches are from today: kept.
    expect(await firsts()).toEqual(['601', '603', '604', '609', '610']);
    expect((await cli(db.url, 'audit', 'verify')).code).toBe(0);
  });

  it('names a converted batch whose id range (outside its hash) no longer matches its events', async () => {
    const tamper = (change: string) =>
      withDb(async (client) => {
        await client.query('SET session_replication_role = replica');
        await client.query(change);
      }, db.url);
    // Batch 2 holds 603, 605 and 607: its range moved up would hide 603 from a page after 602.
    await tamper('UPDATE audit_batches SET first_event_id = 605 WHERE seq = 2');
    expect((await cli(db.url, 'audit', 'verify')).err).toMatch(
      /^audit chain broken at batch 2 \(after 1 good\): its first_event_id is 605, its lowest event id 603/,
    );
    await tamper(
      'UPDATE audit_batches SET first_event_id = 603, last_event_id = 606 WHERE seq = 2',
    );
    expect((await cli(db.url, 'audit', 'verify')).err).toMatch(
      /^audit chain broken at batch 2 \(after 1 good\): its last_event_id is 606, its highest event id 607/,
    );
    await tamper('UPDATE audit_batches SET last_event_id = 607 WHERE seq = 2');
    expect((await cli(db.url, 'audit', 'verify')).code).toBe(0);
  });

  it('names a converted batch whose events were modified', async () => {
    await withDb(async (client) => {
      await client.query('SET session_replication_role = replica');
      await client.query(
        `UPDATE audit_batches SET events = replace(events, '"req-606"', '"req-666"') WHERE seq = 3`,
      );
    }, db.url);
    const broken = await cli(db.url, 'audit', 'verify');
    expect(broken.code).toBe(1);
    expect(broken.err).toMatch(/^audit chain broken at batch 3 \(after 2 good\): .*modified/);
  });
});
