import { mkdtempSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runCli } from '../../src/cli/run-cli.js';
import { Secret } from '../../src/common/secret.js';
import {
  assertDatabaseReady,
  DatabaseNotReadyError,
} from '../../src/infra/prisma/database-readiness.js';
import { createScratchDatabase } from '../support/db.js';
import { testEnv } from '../support/test-env.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
}

describe('the operator command line', () => {
  it.each([['--help'], ['-h'], ['keys', '--help'], ['keys']])(
    '%s prints the usage on stdout and exits 0, without a database',
    async (...argv) => {
      const { out, err, io } = capture();
      expect(await runCli(argv, {}, io)).toBe(0);
      expect(out.join('\n')).toMatch(/keys create --name <name>/);
      expect(err).toEqual([]);
    },
  );

  it.each([
    [['keys', 'revoke', 'not-a-uuid'], /^keys revoke: "not-a-uuid" is not a key id/],
    [['keys', 'create'], /^keys create: --name is required$/],
    [['keys', 'create', '--name', 'x', '--bogus'], /^keys create: Unknown option '--bogus'$/],
    [['keys', 'create', '--name', 'x', '--action', 'root'], /unknown --action "root"/],
    [['keys', 'list', 'extra'], /^keys list: Unexpected argument 'extra'$/],
    [['keys', 'rotate'], /^keys: unknown command "rotate"/],
    [['frobnicate'], /^unknown command "frobnicate"/],
  ])('%j is one clear line and exit code 2, before any database is touched', async (argv, line) => {
    const { out, err, io } = capture();
    // An unreachable database proves the arguments are checked first.
    const env = { DATABASE_URL: 'postgresql://nobody@127.0.0.1:1/none' };
    expect(await runCli(argv, env, io)).toBe(2);
    expect(out).toEqual([]);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(line);
  });
});

describe('database readiness', () => {
  let empty: { url: string; drop(): Promise<void> };
  beforeAll(async () => {
    empty = await createScratchDatabase('unmigrated', { migrate: false });
  });
  afterAll(() => empty.drop());

  it('passes on a migrated database', async () => {
    await expect(assertDatabaseReady(new Secret(testEnv().databaseUrl))).resolves.toBeUndefined();
  });

  it('tells the operator to migrate an empty database', async () => {
    const { io } = capture();
    const run = runCli(['keys', 'list'], { DATABASE_URL: empty.url }, io);
    await expect(run).rejects.toThrow(DatabaseNotReadyError);
    await expect(run).rejects.toThrow(/has no schema yet: run `npm run db:migrate:deploy`$/);
  });

  it('names a migration this version has and the database lacks', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tb-migrations-'));
    const shipped = readdirSync(path.resolve('prisma/migrations'), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
    for (const name of [...shipped, '29991231000000_from_the_future']) {
      mkdirSync(path.join(dir, name));
    }
    await expect(assertDatabaseReady(new Secret(testEnv().databaseUrl), dir)).rejects.toThrow(
      /lacks 1 migration\(s\) of this version \(newest 29991231000000_from_the_future\): run `npm run db:migrate:deploy`/,
    );
  });

  it('says when the database does not exist or PostgreSQL is down', async () => {
    const missing = new URL(testEnv().databaseUrl);
    missing.pathname = '/tb_test_does_not_exist';
    await expect(assertDatabaseReady(new Secret(missing.toString()))).rejects.toThrow(
      /database "tb_test_does_not_exist" does not exist on 127\.0\.0\.1:5432: create it/,
    );
    await expect(
      assertDatabaseReady(new Secret('postgresql://postgres@127.0.0.1:1/any')),
    ).rejects.toThrow(/PostgreSQL is not reachable at 127\.0\.0\.1:1 \(ECONNREFUSED\)/);
  });
});
