import { readdirSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Secret } from '../../common/secret.js';

const MIGRATE_HINT = 'run `npm run db:migrate:deploy`';
// dist/infra/prisma and src/infra/prisma both sit three levels below the project root.
const DEFAULT_MIGRATIONS_DIR = path.resolve(import.meta.dirname, '../../../prisma/migrations');

/** The database cannot serve this build; the message says what to do, in one line. */
export class DatabaseNotReadyError extends Error {
  override readonly name = 'DatabaseNotReadyError';
}

/**
 * Checked before anything else touches the database, so an operator sees
 * "run npm run db:migrate:deploy" instead of a query error from the first
 * repository that happens to run.
 */
export async function assertDatabaseReady(
  databaseUrl: Secret,
  migrationsDir = DEFAULT_MIGRATIONS_DIR,
): Promise<void> {
  const url = new URL(databaseUrl.reveal());
  const where = `${url.hostname}:${url.port || 5432}`;
  const database = decodeURIComponent(url.pathname.slice(1));
  const client = new pg.Client({
    connectionString: databaseUrl.reveal(),
    connectionTimeoutMillis: 5_000,
  });
  try {
    await client.connect();
  } catch (error) {
    throw new DatabaseNotReadyError(connectProblem(error, where, database));
  }
  try {
    const applied = await appliedMigrations(client);
    if (!applied) {
      throw new DatabaseNotReadyError(`database "${database}" has no schema yet: ${MIGRATE_HINT}`);
    }
    const pending = expectedMigrations(migrationsDir).filter((name) => !applied.has(name));
    if (pending.length > 0) {
      throw new DatabaseNotReadyError(
        `database "${database}" lacks ${pending.length} migration(s) of this version (newest ${pending.at(-1)}): ${MIGRATE_HINT}`,
      );
    }
  } finally {
    await client.end().catch(() => {});
  }
}

function connectProblem(error: unknown, where: string, database: string): string {
  const code = (error as { code?: string }).code;
  switch (code) {
    case '3D000':
      return `database "${database}" does not exist on ${where}: create it, then ${MIGRATE_HINT}`;
    case '28P01':
    case '28000':
      return `PostgreSQL at ${where} refused the credentials in DATABASE_URL`;
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
      return `PostgreSQL is not reachable at ${where} (${code}); is it running?`;
    default:
      return `cannot connect to PostgreSQL at ${where}: ${(error as Error).message.split('\n')[0]}`;
  }
}

async function appliedMigrations(client: pg.Client): Promise<Set<string> | undefined> {
  const table = await client.query<{ present: boolean }>(
    `SELECT to_regclass('_prisma_migrations') IS NOT NULL AS present`,
  );
  if (!table.rows[0]?.present) return undefined;
  const { rows } = await client.query<{ migration_name: string }>(
    'SELECT migration_name FROM _prisma_migrations WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL',
  );
  return new Set(rows.map((row) => row.migration_name));
}

/** The migrations this build ships with; none when the folder is not deployed beside it. */
function expectedMigrations(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name)
      .sort();
  } catch {
    return [];
  }
}
