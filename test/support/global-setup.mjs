// Creates one throwaway PostgreSQL database and one Redis key prefix for this
// test run, applies the migrations, and hands both to the test workers
// through the environment. Nothing is shared with other runs or left behind.
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';

export default async function globalSetup() {
  const adminUrl =
    process.env.TEST_POSTGRES_ADMIN_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  const suffix = `${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`;
  const database = `tb_test_${suffix}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${database}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  process.env.TEST_DATABASE_URL = url.toString();
  process.env.TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  process.env.TEST_REDIS_PREFIX = `tb-test:${suffix}:`;
  process.env.TEST_DATABASE_NAME = database;
  // One key ring per run: every broker a test starts must read what the others stored.
  process.env.TEST_ENCRYPTION_KEYS = `run:${randomBytes(32).toString('base64')}`;
  // In a child process: the Wasm schema engine leaves timers behind that would keep Jest alive.
  try {
    await promisify(execFile)(process.execPath, ['prisma/migrate.mjs', 'deploy'], {
      env: { ...process.env, DATABASE_URL: process.env.TEST_DATABASE_URL },
    });
  } catch (error) {
    // Jest skips the teardown when setup fails: drop the database here.
    const cleanup = new pg.Client({ connectionString: adminUrl });
    await cleanup.connect();
    await cleanup
      .query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`)
      .finally(() => cleanup.end());
    throw error;
  }
}
