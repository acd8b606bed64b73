import pg from 'pg';
import { testEnv } from './test-env.js';

/** Direct SQL for assertions about what is (and is not) stored. */
export async function withDb<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: testEnv().databaseUrl });
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
