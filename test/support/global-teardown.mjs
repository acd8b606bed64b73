// Drops the run's database and deletes only the keys under the run's Redis prefix.
import { Redis } from 'ioredis';
import pg from 'pg';

export default async function globalTeardown() {
  const database = process.env.TEST_DATABASE_NAME;
  if (database?.startsWith('tb_test_') && !process.env.TEST_KEEP_DATABASE) {
    const admin = new pg.Client({
      connectionString:
        process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres',
    });
    await admin.connect();
    try {
      // Suites' scratch databases are named after the run's (test/support/db.ts).
      const { rows } = await admin.query('SELECT datname FROM pg_database WHERE datname LIKE $1', [
        `${database}\\_%`,
      ]);
      for (const { datname } of rows) {
        await admin.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
      }
      await admin.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`);
    } finally {
      await admin.end();
    }
  }
  const prefix = process.env.TEST_REDIS_PREFIX;
  if (prefix?.startsWith('tb-test:')) {
    const redis = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length) await redis.del(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  }
}
