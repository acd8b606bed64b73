import { Inject, Injectable, type OnApplicationShutdown, Optional } from '@nestjs/common';
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

/**
 * How long one statement under `direct` may run. These statements write a
 * sync page and hold its run's row FOR UPDATE while they do (the commit
 * fence); the Prisma interactive transaction they replaced gave the whole
 * write 5 s (Prisma's default). A page here is written in milliseconds, so
 * 15 s only ends a write that is stuck (a lock it waits on, a server that
 * stalls): PostgreSQL cancels it (SQLSTATE 57014), rolls back and lets go
 * of the row, and the run waits and resumes from its checkpoint like after
 * an outage (isDatabaseUnavailable). No setting: nothing to tune per
 * deployment, and a statement this slow is a fault, not a workload.
 */
export const DIRECT_STATEMENT_TIMEOUT_MS = 15_000;

/**
 * How long a caller waits for a connection of a pool (all ten busy, or a
 * server that accepts no connection) before it fails (isDatabaseUnavailable
 * reads it as an outage): what Prisma's own pool_timeout gave before driver
 * adapters, where node-postgres waits forever.
 */
const CONNECTION_TIMEOUT_MS = 10_000;

/** Tests shorten the bound (a statement exceeding it, without waiting 15 s). */
export interface DirectLimits {
  statementTimeoutMs: number;
}

/** The one database client. Only repositories use it. */
@Injectable()
export class PrismaService extends PrismaClient implements OnApplicationShutdown {
  /**
   * `direct`'s own connections, not Prisma's: the bound is a setting of
   * these connections (sent once when each opens), so a page write costs no
   * statement to set it (SET LOCAL would need a transaction of its own per
   * page: two more round trips), and Prisma's connections never carry it.
   */
  private readonly directPool: pg.Pool;

  constructor(
    @Inject(AppConfig) config: Pick<AppConfig, 'databaseUrl'>,
    @Optional() limits?: DirectLimits,
  ) {
    super({
      adapter: new PrismaPg({
        connectionString: config.databaseUrl.reveal(),
        max: 10,
        connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
      }),
    });
    const timeoutMs = (limits ?? { statementTimeoutMs: DIRECT_STATEMENT_TIMEOUT_MS })
      .statementTimeoutMs;
    this.directPool = new pg.Pool({
      connectionString: config.databaseUrl.reveal(),
      max: 10,
      connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
      application_name: 'token-broker direct',
      statement_timeout: timeoutMs,
      // A transaction this process stopped driving ends too.
      idle_in_transaction_session_timeout: timeoutMs,
      // No client-side query_timeout: its timer per statement holds the
      // statement (the page's records) and got it promoted to the old
      // generation (measured: 28,410 → 18,948 records/s, peak worker RSS
      // 244 → 276 MB). A server that vanished mid-statement (whose
      // statement_timeout cannot fire) is found by TCP keepalive instead.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    // An idle client the server dropped: the pool discards it; no statement failed.
    this.directPool.on('error', () => undefined);
  }

  /**
   * Statements that carry a sync page's records, not through Prisma.
   * Prisma's raw-query path keeps the arguments of the last 100 queries
   * reachable, twice (the client's debug history and its pg adapter's, both
   * kept whether or not DEBUG is set), and copies them through JSON on the
   * way. Every page's records thus outlived a hundred queries: long enough
   * for V8 to promote them to the old generation, which grew with the length
   * of a run until a full collection (by 65 MB in a 100,000-record run; 13
   * MB since). Here a page is garbage as soon as its statement is done.
   *
   * With `transaction`, the statements run in one (BEGIN … COMMIT, rolled
   * back if `work` throws); without, each statement is its own. Only the
   * statements' own failures are wrapped (DatabaseStatementError); what
   * `work` throws passes unchanged. Every statement is bounded
   * (DIRECT_STATEMENT_TIMEOUT_MS) by the server.
   */
  async direct<T>(
    work: (query: DirectQuery) => Promise<T>,
    { transaction = false }: { transaction?: boolean } = {},
  ): Promise<T> {
    if (!transaction) return work((statement) => run(this.directPool, statement));
    const client = await this.directPool.connect().catch((error: unknown) => {
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
    await Promise.all([this.$disconnect(), this.directPool.end()]);
  }
}

async function run<T>(
  db: Pick<pg.Pool, 'query'>,
  statement: Pick<Prisma.Sql, 'text' | 'values'>,
): Promise<T[]> {
  try {
    const { rows } = await db.query({ text: statement.text, values: statement.values });
    return rows as T[];
  } catch (error) {
    throw new DatabaseStatementError(error);
  }
}
