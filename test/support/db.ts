import pg from 'pg';
import { testEnv } from './test-env.js';

/** Direct SQL for assertions about what is (and is not) stored. */
export async function withDb<T>(
  fn: (client: pg.Client) => Promise<T>,
  databaseUrl = testEnv().databaseUrl,
): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function countRows(
  table: string,
  where = 'true',
  params: unknown[] = [],
): Promise<number> {
  return withDb(async (client) => {
    const { rows } = await client.query<{ n: string }>(
      `SELECT count(*) AS n FROM ${table} WHERE ${where}`,
      params,
    );
    return Number(rows[0]!.n);
  });
}

/**
 * A database of its own, migrated, for a suite whose writes must not reach
 * the others' (e.g. key rotation re-encrypts every row it can see). Named
 * after the run's database, so the global teardown drops it if the suite
 * cannot.
 */
export async function createScratchDatabase(
  label: string,
  { migrate = true }: { migrate?: boolean } = {},
): Promise<{ url: string; drop(): Promise<void> }> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const runUrl = new URL(testEnv().databaseUrl);
  const name = `${runUrl.pathname.slice(1)}_${label}`;
  const admin = adminUrl();
  await adminQuery(admin, `CREATE DATABASE "${name}"`);
  const url = new URL(runUrl);
  url.pathname = `/${name}`;
  // A child process, as in the global setup: the Wasm schema engine leaves timers behind.
  if (migrate)
    await promisify(execFile)(process.execPath, ['prisma/migrate.mjs', 'deploy'], {
      env: { ...process.env, DATABASE_URL: url.toString() },
    });
  return {
    url: url.toString(),
    drop: () => adminQuery(admin, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
  };
}

function adminUrl(): string {
  return process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
