import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { AppConfig } from '../../config/app-config.js';
import { type Prisma, PrismaClient } from './generated/client.js';

/** Runs one statement built with `Prisma.sql` and returns its rows (node-postgres's types). */
export type DirectQuery = <T>(statement: Prisma.Sql) => Promise<T[]>;

/**
 * A direct statement failed; node-postgres's error is the cause. Named so
 * that `isDatabaseUnavailable` reads it as it reads Prisma's errors.
 */
export class DatabaseStatementError extends Error {
  override readonly name = 'DatabaseStatementError';

  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
  }
}

/** The one database client. Only repositories use it. */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  /** The pool under Prisma's adapter, shared with `direct`. */
  private readonly pool: pg.Pool;

  constructor(@Inject(AppConfig) config: Pick<AppConfig, 'databaseUrl'>) {
    const pool = new pg.Pool({ connectionString: config.databaseUrl.reveal(), max: 10 });
    // An idle client the server dropped: the pool discards it; no statement failed.
    pool.on('error', () => undefined);
    // $disconnect ends the pool, as it ended the adapter's own.
    super({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
    this.pool = pool;
  }

  /**
   * Statements that carry a sync page's records, on Prisma's pool but not
   * through Prisma. Prisma's raw-query path keeps the arguments of the last
   * 100 queries reachable, twice (the client's debug history and its pg
   * adapter's, both kept whether or not DEBUG is set), and copies them
   * through JSON on the way. Every page's records thus outlived a hundred
   * queries: long enough for V8 to promote them to the old generation,
   * which grew with the length of a run until a full collection (by 65 MB
   * in a 100,000-record run; 13 MB since). Here a page is garbage as soon
   * as its statement is done.
   *
   * With `transaction`, the statements run in one (BEGIN … COMMIT, rolled
   * back if `work` throws). Only the statements' own failures are wrapped
   * (DatabaseStatementError); what `work` throws passes unchanged.
   */
  async direct<T>(
    work: (query: DirectQuery) => Promise<T>,
    { transaction = false }: { transaction?: boolean } = {},
  ): Promise<T> {
    if (!transaction) return work((statement) => run(this.pool, statement));
    const client = await this.pool.connect().catch((error: unknown) => {
      throw new DatabaseStatementError(error);
    });
    let broken: unknown;
    try {
      await run(client, { text: 'BEGIN', values: [] });
      const result = await work((statement) => run(client, statement));
      await run(client, { text: 'COMMIT', values: [] });
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch((rollback: unknown) => (broken = rollback));
      throw error;
    } finally {
      // A connection that could not roll back is closed, not handed to the next caller.
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  // Closed in the last shutdown phase: jobs finishing their step in onModuleDestroy still need it.
  async onApplicationShutdown(): Promise<void> {
    await this.$disconnect();
  }
}

async function run<T>(
  db: pg.Pool | pg.PoolClient,
  statement: Pick<Prisma.Sql, 'text' | 'values'>,
): Promise<T[]> {
  try {
    return (await db.query(statement.text, statement.values)).rows as T[];
  } catch (error) {
    throw new DatabaseStatementError(error);
  }
}
