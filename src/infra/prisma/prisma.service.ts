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
 * How long a caller waits for a connection of the pool (all ten busy, or a
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
  /** The pool under Prisma's adapter, shared with `direct`. */
  private readonly pool: pg.Pool;

  private readonly limits: DirectLimits;

  constructor(
    @Inject(AppConfig) config: Pick<AppConfig, 'databaseUrl'>,
    @Optional() limits?: DirectLimits,
  ) {
    const pool = new pg.Pool({
      connectionString: config.databaseUrl.reveal(),
      max: 10,
      connectionTimeoutMillis: CONNECTION_TIMEOUT_MS,
    });
    // An idle client the server dropped: the pool discards it; no statement failed.
    pool.on('error', () => undefined);
    // $disconnect ends the pool, as it ended the adapter's own.
    super({ adapter: new PrismaPg(pool, { disposeExternalPool: true }) });
    this.pool = pool;
    this.limits = limits ?? { statementTimeoutMs: DIRECT_STATEMENT_TIMEOUT_MS };
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
   * back if `work` throws); without, each statement is its own. Only the
   * statements' own failures are wrapped (DatabaseStatementError); what
   * `work` throws passes unchanged.
   *
   * Every statement is bounded (DIRECT_STATEMENT_TIMEOUT_MS), by the server:
   * SET LOCAL statement_timeout in a transaction of its own, so the setting
   * never reaches the pool's next user (Prisma shares these connections),
   * and idle_in_transaction_session_timeout ends a transaction this process
   * stopped driving. Hence a statement outside `transaction` also runs in
   * BEGIN … COMMIT (BEGIN and the settings in one round trip). The client
   * gives up a second later too, for a server that cannot answer at all.
   */
  async direct<T>(
    work: (query: DirectQuery) => Promise<T>,
    { transaction = false }: { transaction?: boolean } = {},
  ): Promise<T> {
    if (transaction) return this.bounded(work);
    return work((statement) => this.bounded((query) => query(statement)));
  }

  private async bounded<T>(work: (query: DirectQuery) => Promise<T>): Promise<T> {
    const client = await this.pool.connect().catch((error: unknown) => {
      throw new DatabaseStatementError(error);
    });
    const timeoutMs = this.limits.statementTimeoutMs;
    const query: DirectQuery = (statement) => run(client, statement, timeoutMs);
    let broken: unknown;
    try {
      await run(
        client,
        {
          text: `BEGIN; SET LOCAL statement_timeout = ${timeoutMs}; SET LOCAL idle_in_transaction_session_timeout = ${timeoutMs}`,
          values: [],
        },
        timeoutMs,
      );
      const result = await work(query);
      await run(client, { text: 'COMMIT', values: [] }, timeoutMs);
      return result;
    } catch (error) {
      // The client gave up waiting: its statement may still be running, and
      // a ROLLBACK would queue behind it. The connection is closed instead
      // (the server then rolls back).
      if (readTimedOut(error)) broken = error;
      else await client.query('ROLLBACK').catch((rollback: unknown) => (broken = rollback));
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
  client: pg.PoolClient,
  statement: Pick<Prisma.Sql, 'text' | 'values'>,
  timeoutMs: number,
): Promise<T[]> {
  try {
    const { rows } = await client.query({
      text: statement.text,
      values: statement.values,
      // The server's statement_timeout fires first; this one only when the server cannot answer.
      query_timeout: timeoutMs + 1_000,
    } as pg.QueryConfig);
    return rows as T[];
  } catch (error) {
    throw new DatabaseStatementError(error);
  }
}

/** node-postgres's own query_timeout (no SQLSTATE: the server never answered). */
function readTimedOut(error: unknown): boolean {
  return error instanceof DatabaseStatementError && /Query read timeout/.test(error.message);
}
