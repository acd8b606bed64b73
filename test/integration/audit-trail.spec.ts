import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { AuditAppender } from '../../src/audit/audit-appender.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { AuditEntry } from '../../src/audit/audit-entry.js';
import { AuditRepository } from '../../src/audit/audit.repository.js';
import { AppError } from '../../src/common/errors/app-error.js';
import { Secret } from '../../src/common/secret.js';
import type { AppConfig } from '../../src/config/app-config.js';
import { PrismaService } from '../../src/infra/prisma/prisma.service.js';
import { cli } from '../support/cli.js';
import { createScratchDatabase, withDb } from '../support/db.js';

const configOf = (mode: 'strict' | 'best-effort') =>
  ({ audit: { mode, retentionDays: 365 } }) as unknown as AppConfig;

const entry = (tenantId: string, n = 0): AuditEntry => ({
  at: new Date(),
  action: 'token.read',
  connectionId: randomUUID(),
  tenantId,
  serviceKeyId: randomUUID(),
  requestId: `req-${n}`,
  tokenFingerprint: `k1:fp${n}`,
  detail: { n, refreshed: false },
});

/** A scratch database: the trail's triggers and chain are global to a database. */
describe('the audit trail on PostgreSQL', () => {
  let db: { url: string; drop(): Promise<void> };
  let prisma: PrismaService;
  let repository: AuditRepository;
  let appender: AuditAppender;

  beforeAll(async () => {
    db = await createScratchDatabase('audit');
    prisma = new PrismaService({ databaseUrl: new Secret(db.url) });
    repository = new AuditRepository(prisma);
    appender = new AuditAppender({ databaseUrl: new Secret(db.url) });
  });

  afterAll(async () => {
    await appender.onApplicationShutdown();
    await prisma.$disconnect();
    await db.drop();
  });

  const sql = <T extends Record<string, unknown>>(text: string, params: unknown[] = []) =>
    withDb(async (client) => (await client.query<T>(text, params)).rows, db.url);
  /** As a superuser bypassing the append-only trigger. */
  const tamper = (text: string, params: unknown[]) =>
    withDb(async (client) => {
      await client.query('SET session_replication_role = replica');
      await client.query(text, params);
    }, db.url);

  it('group-commits: 200 concurrent records are 200 committed events in far fewer batches', async () => {
    const log = new AuditLog(appender, configOf('strict'));
    const tenant = `t-${randomUUID()}`;
    const before = appender.statements;
    // Three waves, as requests arrive while a write is in flight.
    const waves = [0, 1, 2].map(async (wave) => {
      await new Promise((resolve) => setTimeout(resolve, wave * 3));
      await Promise.all(
        Array.from({ length: 67 - (wave === 2 ? 1 : 0) }, (_, i) => log.record(entry(tenant, i))),
      );
    });
    await Promise.all(waves);
    const statements = appender.statements - before;
    const [row] = await sql<{ n: string }>(
      'SELECT count(*) AS n FROM audit_events WHERE tenant_id = $1 AND batch_id IS NOT NULL',
      [tenant],
    );
    expect(Number(row!.n)).toBe(200);
    expect(statements).toBeGreaterThanOrEqual(1);
    expect(statements).toBeLessThan(20);
    const batches = await sql<{ n: string; events: string }>(
      'SELECT count(*) AS n, sum(row_count) AS events FROM audit_batches WHERE $1 = ANY (tenant_ids)',
      [tenant],
    );
    expect(batches[0]).toEqual({ n: String(statements), events: '200' });
  });

  it('fails closed in strict mode, gives up (without waiting) in best-effort', async () => {
    await sql(`CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'audit insert refused by the test'; END $$`);
    await sql(
      'CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_batches FOR EACH ROW EXECUTE FUNCTION refuse_audit()',
    );
    try {
      const tenant = `t-${randomUUID()}`;
      const strict = new AuditLog(appender, configOf('strict'));
      const results = await Promise.allSettled(
        [1, 2, 3].map((n) => strict.record(entry(tenant, n))),
      );
      for (const result of results) {
        expect(result.status).toBe('rejected');
        const reason = (result as PromiseRejectedResult).reason as AppError;
        expect(reason).toBeInstanceOf(AppError);
        expect(reason.code).toBe('audit_unavailable');
      }
      const bestEffort = new AuditLog(appender, configOf('best-effort'));
      await expect(bestEffort.record(entry(tenant))).resolves.toBeUndefined();
      await bestEffort.drain();
      expect(await sql('SELECT 1 FROM audit_events WHERE tenant_id = $1', [tenant])).toEqual([]);
    } finally {
      await sql('DROP TRIGGER refuse_audit ON audit_batches');
      await sql('DROP FUNCTION refuse_audit()');
    }
  });

  it('is append-only: UPDATE, DELETE and TRUNCATE are refused, retention goes through audit_purge', async () => {
    await appender.recordMany([entry(`t-${randomUUID()}`)]);
    await expect(sql("UPDATE audit_batches SET events = ''")).rejects.toThrow(/append-only/);
    await expect(sql('DELETE FROM audit_batches')).rejects.toThrow(/append-only/);
    await expect(sql('TRUNCATE audit_batches')).rejects.toThrow(/append-only/);
    // The one-row-per-event view takes no writes at all.
    await expect(sql("UPDATE audit_events SET action = 'x'")).rejects.toThrow(/view/);
    await expect(sql('DELETE FROM audit_events')).rejects.toThrow(/view/);
    await expect(repository.purgeBefore(new Date(), 10)).rejects.toThrow(/at least a day/);
  });

  it('keeps its chain head: removing it is refused, and without it an append fails (closed)', async () => {
    await expect(sql('DELETE FROM audit_chain_head')).rejects.toThrow(/append-only/);
    await expect(sql('TRUNCATE audit_chain_head')).rejects.toThrow(/append-only/);
    await tamper('CREATE TABLE saved_head AS SELECT * FROM audit_chain_head', []);
    await tamper('DELETE FROM audit_chain_head', []);
    try {
      await expect(appender.recordMany([entry(`t-${randomUUID()}`)])).rejects.toThrow(
        /no chain head/,
      );
    } finally {
      await tamper('INSERT INTO audit_chain_head SELECT * FROM saved_head', []);
      await tamper('DROP TABLE saved_head', []);
    }
    await appender.recordMany([entry(`t-${randomUUID()}`)]);
  });

  it('chains batches across concurrent writers; verify passes, then names the batch a modified row is in', async () => {
    // Two writers (as two replicas) appending at once.
    const a = appender;
    const b = new AuditAppender({ databaseUrl: new Secret(db.url) });
    const tenant = `t-${randomUUID()}`;
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).recordMany([entry(tenant, i), entry(tenant, i + 100)]),
      ),
    );
    await b.onApplicationShutdown();
    // Each append took the next range of ids under the chain head's lock: in
    // seq order the ranges follow one another, without gap or overlap.
    const ranges = await sql<{
      seq: string;
      format: number;
      first: string;
      last: string;
      n: number;
    }>(
      `SELECT seq, format, first_event_id AS first, last_event_id AS last, row_count AS n
       FROM audit_batches WHERE $1 = ANY (tenant_ids) ORDER BY seq`,
      [tenant],
    );
    expect(ranges).toHaveLength(20);
    const start = ranges[0]!;
    expect(ranges).toEqual(
      ranges.map((_, i) => ({
        seq: String(BigInt(start.seq) + BigInt(i)),
        format: 2,
        first: String(BigInt(start.first) + 2n * BigInt(i)),
        last: String(BigInt(start.first) + 2n * BigInt(i) + 1n),
        n: 2,
      })),
    );
    const ok = await cli(db.url, 'audit', 'verify');
    const [original] = await sql<{ events: string }>(
      `SELECT b.events FROM audit_events e JOIN audit_batches b ON b.id = e.batch_id
       WHERE e.tenant_id = $1 ORDER BY e.id LIMIT 1 OFFSET 7`,
      [tenant],
    );
    expect(ok).toMatchObject({ code: 0, err: '' });
    expect(ok.out).toMatch(/^audit chain ok: \d+ batches/);

    const [target] = await sql<{ id: string; seq: string }>(
      `SELECT e.id, b.seq FROM audit_events e JOIN audit_batches b ON b.id = e.batch_id
       WHERE e.tenant_id = $1 ORDER BY e.id LIMIT 1 OFFSET 7`,
      [tenant],
    );
    // As a superuser bypassing the trigger: one event's tenant in its batch's text.
    await tamper(
      `UPDATE audit_batches SET events = replace(events, $2, 'someone-else')
                  WHERE seq = $1`,
      [target!.seq, tenant],
    );
    const broken = await cli(db.url, 'audit', 'verify');
    expect(broken.code).toBe(1);
    expect(broken.err).toMatch(
      new RegExp(`^audit chain broken at batch ${target!.seq} .*modified`),
    );
    await tamper('UPDATE audit_batches SET events = $2 WHERE seq = $1', [
      target!.seq,
      original!.events,
    ]);
    expect((await cli(db.url, 'audit', 'verify')).code).toBe(0);
  });

  it('names a batch whose paging columns (outside its hash) no longer match its events', async () => {
    const tenant = `t-${randomUUID()}`;
    const connectionId = randomUUID();
    await appender.recordMany([{ ...entry(tenant, 1), connectionId }, entry(tenant, 2)]);
    const [batch] = await sql<{ seq: string; first: string; last: string }>(
      `SELECT seq, first_event_id AS first, last_event_id AS last
       FROM audit_batches WHERE $1 = ANY (tenant_ids)`,
      [tenant],
    );
    const { seq } = batch!;
    expect((await cli(db.url, 'audit', 'verify')).code).toBe(0);
    await tamper(
      `CREATE TABLE saved_columns AS SELECT * FROM audit_batches WHERE seq = ${seq}`,
      [],
    );
    const cases: [string, unknown[], string][] = [
      [
        'UPDATE audit_batches SET connection_ids = array_remove(connection_ids, $2::uuid) WHERE seq = $1',
        [seq, connectionId],
        'its connection_ids are not the connections of its events',
      ],
      [
        'UPDATE audit_batches SET connection_ids = connection_ids || $2::uuid WHERE seq = $1',
        [seq, randomUUID()],
        'its connection_ids are not the connections of its events',
      ],
      [
        `UPDATE audit_batches SET tenant_ids = '{}' WHERE seq = $1`,
        [seq],
        'its tenant_ids are not the tenants of its events',
      ],
      [
        'UPDATE audit_batches SET last_event_id = last_event_id - 1 WHERE seq = $1',
        [seq],
        `its last_event_id is ${BigInt(batch!.last) - 1n}, its highest event id ${batch!.last}`,
      ],
      [
        'UPDATE audit_batches SET row_count = 1 WHERE seq = $1',
        [seq],
        'it holds 2 rows, 1 were written',
      ],
      // Text that is no JSON is reported, not parsed: only a batch whose hash matches is.
      [
        `UPDATE audit_batches SET events = 'not' || chr(10) || 'json' WHERE seq = $1`,
        [seq],
        'its rows do not match its hash (modified)',
      ],
    ];
    try {
      for (const [change, params, reason] of cases) {
        await tamper(change, params);
        const broken = await cli(db.url, 'audit', 'verify');
        expect({ code: broken.code, err: broken.err.trim() }).toEqual({
          code: 1,
          err: expect.stringMatching(
            new RegExp(`^audit chain broken at batch ${seq} \\(after \\d+ good\\): `),
          ),
        });
        expect(broken.err).toContain(reason);
        await tamper(
          `UPDATE audit_batches b SET connection_ids = s.connection_ids, tenant_ids = s.tenant_ids,
             last_event_id = s.last_event_id, row_count = s.row_count, events = s.events
           FROM saved_columns s WHERE b.seq = s.seq`,
          [],
        );
      }
    } finally {
      await tamper('DROP TABLE saved_columns', []);
    }
    // What the check guards: without its connection, paging by it missed the event.
    expect((await repository.page({ connectionId, limit: 10 })).map((r) => r.requestId)).toEqual([
      'req-1',
    ]);
    expect((await cli(db.url, 'audit', 'verify')).code).toBe(0);
  });

  it('names a batch whose event was removed, the newest batch removed and a batch removed from the chain', async () => {
    const tenant = `t-${randomUUID()}`;
    for (let i = 0; i < 3; i += 1) await appender.recordMany([entry(tenant, i), entry(tenant, 9)]);
    const [first, second] = await sql<{ seq: string; events: string }>(
      'SELECT seq, events FROM audit_batches WHERE $1 = ANY (tenant_ids) ORDER BY seq',
      [tenant],
    );
    await tamper(
      'UPDATE audit_batches SET events = split_part(events, chr(10), 1) WHERE seq = $1',
      [first!.seq],
    );
    expect((await cli(db.url, 'audit', 'verify')).err).toMatch(
      new RegExp(`^audit chain broken at batch ${first!.seq} .*holds 1 rows, 2 were written`),
    );
    await tamper('UPDATE audit_batches SET events = $2 WHERE seq = $1', [
      first!.seq,
      first!.events,
    ]);
    // The newest batch removed: no later batch shows the gap, the chain head does.
    const [newest] = await sql<{ seq: string }>('SELECT max(seq)::text AS seq FROM audit_batches');
    await tamper(
      `CREATE TABLE saved_batch AS SELECT * FROM audit_batches WHERE seq = ${newest!.seq}`,
      [],
    );
    await tamper('DELETE FROM audit_batches WHERE seq = $1', [newest!.seq]);
    expect((await cli(db.url, 'audit', 'verify')).err).toMatch(
      new RegExp(
        `^audit chain broken at batch ${newest!.seq} .*${newest!.seq}…${newest!.seq} are missing \\(the chain head is at ${newest!.seq}\\)`,
      ),
    );
    await tamper('INSERT INTO audit_batches SELECT * FROM saved_batch', []);
    await tamper('DROP TABLE saved_batch', []);
    expect((await cli(db.url, 'audit', 'verify')).code).toBe(0);
    await tamper('DELETE FROM audit_batches WHERE seq = $1', [second!.seq]);
    expect((await cli(db.url, 'audit', 'verify')).err).toMatch(
      new RegExp(
        `^audit chain broken at batch ${BigInt(second!.seq) + 1n} .*${second!.seq}…${second!.seq} are missing`,
      ),
    );
  });

  it('pages by event id across batches, by connection and by tenant', async () => {
    const tenant = `t-${randomUUID()}`;
    const other = `t-${randomUUID()}`;
    const connectionId = randomUUID();
    const mine = (n: number): AuditEntry => ({ ...entry(tenant, n), connectionId });
    const first = mine(1);
    await appender.recordMany([first, entry(other, 2), mine(3)]);
    await appender.recordMany([entry(tenant, 4)]);
    await appender.recordMany([
      entry(other, 5),
      mine(6),
      { ...mine(7), connectionId: 'not-a-uuid' },
    ]);
    const all = await repository.page({ tenants: [tenant, other], limit: 500 });
    const ours = all.filter((record) => record.tenantId === tenant || record.tenantId === other);
    expect(ours.map((record) => record.requestId)).toEqual([
      'req-1',
      'req-2',
      'req-3',
      'req-4',
      'req-5',
      'req-6',
      'req-7',
    ]);
    expect(ours[0]).toEqual({
      ...first,
      id: expect.any(BigInt),
      batchSeq: expect.any(BigInt),
    });
    expect(ours[6]).not.toHaveProperty('connectionId');
    const ids = ours.map((record) => record.id);
    expect(ids).toEqual([...ids].sort((a, b) => (a < b ? -1 : 1)));

    const pages: string[][] = [];
    let afterId: bigint | undefined;
    for (;;) {
      const page = await repository.page({ connectionId, afterId, limit: 2 });
      pages.push(page.map((record) => record.requestId!));
      if (page.length < 2) break;
      afterId = page.at(-1)!.id;
    }
    expect(pages).toEqual([['req-1', 'req-3'], ['req-6']]);
    expect(
      (await repository.page({ tenants: [other], afterId: ids[1], limit: 10 })).map(
        (record) => record.requestId,
      ),
    ).toEqual(['req-5']);
    const upper = await repository.page({ connectionId: connectionId.toUpperCase(), limit: 10 });
    expect(upper.map((record) => record.requestId)).toEqual(['req-1', 'req-3', 'req-6']);
    expect(await repository.page({ connectionId, tenants: [other], limit: 10 })).toEqual([]);
  });

  it('pages on past one listing of batches, by connection and by tenant, with any limit', async () => {
    // 130 batches (a listing is 100) of 3 events, 2 of them the connection's.
    const tenant = `t-${randomUUID()}`;
    const connectionId = randomUUID();
    for (let i = 0; i < 130; i += 1)
      await appender.recordMany([
        { ...entry(tenant, 3 * i), connectionId },
        entry(tenant, 3 * i + 1),
        { ...entry(tenant, 3 * i + 2), connectionId },
      ]);
    const idsWhere = async (where: string, params: unknown[]) =>
      (
        await sql<{ id: string }>(`SELECT id FROM audit_events WHERE ${where} ORDER BY id`, params)
      ).map((row) => row.id);
    const pageAll = async (query: { connectionId?: string; tenants?: string[] }, limit: number) => {
      const pages: number[] = [];
      const seen: string[] = [];
      let afterId: bigint | undefined;
      for (;;) {
        const page = await repository.page({ ...query, afterId, limit });
        pages.push(page.length);
        seen.push(...page.map((record) => String(record.id)));
        if (page.length < limit) return { seen, pages };
        afterId = page.at(-1)!.id;
      }
    };
    const mine = await idsWhere('connection_id = $1', [connectionId]);
    expect(mine).toHaveLength(260);
    // Smaller than what a batch holds of the connection, equal, larger, all at once.
    for (const limit of [1, 2, 3, 7, 300]) {
      const { seen, pages } = await pageAll({ connectionId }, limit);
      expect(seen).toEqual(mine);
      expect(pages.slice(0, -1).every((n) => n === limit)).toBe(true);
    }
    const ours = await idsWhere('tenant_id = $1', [tenant]);
    expect(ours).toHaveLength(390);
    for (const limit of [1, 5, 500])
      expect((await pageAll({ tenants: [tenant] }, limit)).seen).toEqual(ours);
    // No filter: every event of the database, in id order.
    expect((await pageAll({}, 64)).seen).toEqual(await idsWhere('true', []));
  });

  it('reads the events of only as many batches as a page needs', async () => {
    const tenant = `t-${randomUUID()}`;
    for (let i = 0; i < 20; i += 1)
      await appender.recordMany([entry(tenant, 2 * i), entry(tenant, 2 * i + 1)]);
    const textsRead = async (query: Parameters<AuditRepository['page']>[0]) => {
      const original = prisma.$queryRaw.bind(prisma);
      let texts = 0;
      const spy = jest.spyOn(prisma, '$queryRaw').mockImplementation(((
        ...args: Parameters<typeof original>
      ) =>
        original(...args).then((rows) => {
          texts += (rows as Record<string, unknown>[]).filter((row) => 'events' in row).length;
          return rows;
        })) as typeof original);
      try {
        const page = await repository.page(query);
        return { events: page.length, texts };
      } finally {
        spy.mockRestore();
      }
    };
    expect(await textsRead({ tenants: [tenant], limit: 1 })).toEqual({ events: 1, texts: 1 });
    expect(await textsRead({ tenants: [tenant], limit: 4 })).toEqual({ events: 4, texts: 2 });
    expect(await textsRead({ tenants: [tenant], limit: 5 })).toEqual({ events: 5, texts: 3 });
  });
});

/**
 * Retention by seq: created_at need not follow seq (a batch's created_at is
 * when its transaction began, before it queued for the chain head; clocks
 * of a failover may disagree), so purging by created_at alone could leave a
 * gap that verify reports as tampering. A database of its own: it purges.
 */
describe('audit retention and verify', () => {
  const DAY = 86_400_000;
  let db: { url: string; drop(): Promise<void> };
  let prisma: PrismaService;
  let repository: AuditRepository;
  let appender: AuditAppender;
  const tenant = `t-${randomUUID()}`;

  beforeAll(async () => {
    db = await createScratchDatabase('audit_purge');
    prisma = new PrismaService({ databaseUrl: new Secret(db.url) });
    repository = new AuditRepository(prisma);
    appender = new AuditAppender({ databaseUrl: new Secret(db.url) });
  });

  afterAll(async () => {
    await appender.onApplicationShutdown();
    await prisma.$disconnect();
    await db.drop();
  });

  const ago = (days: number) => new Date(Date.now() - days * DAY);
  const seqs = async () =>
    withDb(
      async (client) =>
        (
          await client.query<{ seq: string }>('SELECT seq FROM audit_batches ORDER BY seq')
        ).rows.map((row) => Number(row.seq)),
      db.url,
    );
  /** As a superuser bypassing the trigger; a batch's created_at is not part of any hash. */
  const createdAt = (at: Record<number, Date>) =>
    withDb(async (client) => {
      await client.query('SET session_replication_role = replica');
      for (const [seq, when] of Object.entries(at))
        await client.query('UPDATE audit_batches SET created_at = $2 WHERE seq = $1', [seq, when]);
    }, db.url);

  it('purges a prefix of the chain by seq, and verify checks from the first batch left', async () => {
    for (let i = 0; i < 6; i += 1)
      await appender.recordMany([entry(tenant, i), entry(tenant, 100 + i)]);
    expect(await seqs()).toEqual([1, 2, 3, 4, 5, 6]);
    // 1, 2 and 4 are past a year's retention; 3 is younger than 4 by created_at;
    // 5 and 6 are from today. By created_at alone 1, 2 and 4 would go and 3 stay.
    await createdAt({ 1: ago(400), 2: ago(399), 3: ago(10), 4: ago(398) });
    expect(await repository.purgeBefore(ago(365), 1_000)).toBe(4);
    expect(await seqs()).toEqual([5, 6]);
    const [left] = await withDb(
      async (client) =>
        (
          await client.query<{ n: string }>(
            'SELECT count(*) AS n FROM audit_events WHERE tenant_id = $1',
            [tenant],
          )
        ).rows,
      db.url,
    );
    expect(Number(left!.n)).toBe(4);

    const verified = await cli(db.url, 'audit', 'verify');
    expect(verified).toMatchObject({ code: 0, err: '' });
    expect(verified.out).toMatch(
      /^audit chain ok: 2 batches, seq 5…6 \(checked from seq 5: batches before it were purged by retention; anchored at its prev_hash [0-9a-f]{16}…\)$/,
    );
  });

  it('never takes a batch from the last day, even ahead of one whose created_at is old', async () => {
    await appender.recordMany([entry(tenant, 7)]);
    await createdAt({ 7: ago(500) });
    // The newest old batch is 7, but 5 and 6 are from today: nothing goes.
    expect(await repository.purgeBefore(ago(365), 1_000)).toBe(0);
    expect(await seqs()).toEqual([5, 6, 7]);
    // Once they are older than a day (though younger than the cutoff), the prefix
    // up to 7 goes, max_batches at a time, oldest first.
    await createdAt({ 5: ago(2), 6: ago(2) });
    expect(await repository.purgeBefore(ago(365), 2)).toBe(2);
    expect(await seqs()).toEqual([7]);
    expect((await cli(db.url, 'audit', 'verify')).out).toMatch(
      /^audit chain ok: 1 batches, seq 7…7 \(checked from seq 7: /,
    );
  });

  it('still names a modified batch after a purge, the anchor batch included', async () => {
    await appender.recordMany([entry(tenant, 8)]);
    expect((await cli(db.url, 'audit', 'verify')).code).toBe(0);
    await withDb(async (client) => {
      await client.query('SET session_replication_role = replica');
      await client.query(
        `UPDATE audit_batches SET events = replace(events, $1, 'someone-else') WHERE seq = 7`,
        [tenant],
      );
    }, db.url);
    const broken = await cli(db.url, 'audit', 'verify');
    expect(broken.code).toBe(1);
    expect(broken.err).toMatch(/^audit chain broken at batch 7 \(after 0 good\): .*modified/);
  });
});
