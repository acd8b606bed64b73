#!/usr/bin/env node
// Applies (and creates) Prisma migrations through Prisma's Wasm schema engine.
//
// Why not `prisma migrate deploy`: Prisma 7's CLI downloads a native schema
// engine before every command, and hosts that only reach the npm registry
// (CI here, many locked-down production networks) cannot fetch it. The Wasm
// engine ships on npm and applies the same migrations into the same
// `_prisma_migrations` table, so the two are interchangeable.
//
//   node prisma/migrate.mjs deploy          apply pending migrations to DATABASE_URL
//   node prisma/migrate.mjs new <name>      write a migration from the schema change
import { readFile, readdir, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const prismaDir = path.dirname(fileURLToPath(import.meta.url));
const migrationsDir = path.join(prismaDir, 'migrations');
const schemaPath = path.join(prismaDir, 'schema.prisma');
const snapshotName = 'schema.snapshot.prisma';
const noFilter = { externalTables: [], externalEnums: [] };

let engineFactory;

/** The Wasm module can only be instantiated once per process; later callers share it. */
async function loadEngineFactory() {
  if (engineFactory) return engineFactory;
  const runtimeUrl = import.meta.resolve('@prisma/schema-engine-wasm/schema_engine_bg');
  const runtime = await import(runtimeUrl);
  const bytes = await readFile(new URL('schema_engine_bg.wasm', runtimeUrl));
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    './schema_engine_bg.js': runtime,
  });
  runtime.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start();
  engineFactory = runtime.SchemaEngine;
  return engineFactory;
}

async function withEngine(databaseUrl, fn, migrationsDirPath = migrationsDir) {
  const [prismaMigrate, { PrismaPg }, { bindMigrationAwareSqlAdapterFactory }] = await Promise.all([
    import('@prisma/migrate'),
    import('@prisma/adapter-pg'),
    import('@prisma/driver-adapter-utils'),
  ]);
  // A CommonJS bundle: its named exports only show on the default export.
  const { SchemaEngineWasm, Migrate } = prismaMigrate.default ?? prismaMigrate;
  const factory = await loadEngineFactory();
  const adapter = bindMigrationAwareSqlAdapterFactory(
    new PrismaPg({ connectionString: databaseUrl }),
  );
  const schema = await readFile(schemaPath, 'utf8');
  const wasmEngine = await factory.new({ datamodels: [[schemaPath, schema]] }, () => {}, adapter);
  // The engine arms long timers of its own; they must not keep a process alive.
  const engine = new SchemaEngineWasm({ engine: wasmEngine, errorRegistry: adapter.errorRegistry });
  const migrate = new Migrate({ engine, migrationsDirPath });
  try {
    return await fn({ engine, migrate, schema });
  } finally {
    await migrate.stop().catch(() => {});
  }
}

/**
 * Applies pending migrations; returns the names applied by this call. Tests
 * of a data migration pass a folder holding only the migrations before it.
 */
export async function applyMigrations(databaseUrl, fromDir = migrationsDir) {
  return withEngine(
    databaseUrl,
    async ({ migrate }) => {
      const { appliedMigrationNames } = await migrate.applyMigrations();
      return appliedMigrationNames;
    },
    fromDir,
  );
}

async function latestSnapshot() {
  const dirs = (await readdir(migrationsDir, { withFileTypes: true }).catch(() => []))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
  const latest = dirs.at(-1);
  if (!latest) return undefined;
  return readFile(path.join(migrationsDir, latest, snapshotName), 'utf8');
}

/** Diffs the newest migration's schema snapshot against schema.prisma; no database needed. */
export async function createMigration(name) {
  const previous = await latestSnapshot();
  // The engine opens a connection when created, though a schema-to-schema diff never queries it.
  const url = process.env.DATABASE_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
  return withEngine(url, async ({ engine, schema }) => {
    const toFiles = { files: [{ path: schemaPath, content: schema }] };
    const from = previous
      ? { tag: 'schemaDatamodel', files: [{ path: schemaPath, content: previous }] }
      : { tag: 'empty' };
    const { stdout } = await engine.engine.diff({
      from,
      to: { tag: 'schemaDatamodel', ...toFiles },
      script: true,
      exitCode: null,
      filters: noFilter,
    });
    if (!stdout || /^-- This is an empty migration\.\s*$/.test(stdout.trim())) {
      return undefined;
    }
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
    const dir = path.join(migrationsDir, `${stamp}_${name}`);
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, 'migration.sql'), stdout);
    await writeFile(path.join(dir, snapshotName), schema);
    await writeFile(
      path.join(migrationsDir, 'migration_lock.toml'),
      '# Written by prisma/migrate.mjs; keep it in version control.\nprovider = "postgresql"\n',
    );
    return dir;
  });
}

async function main(argv) {
  const [command, name] = argv;
  if (command === 'deploy') {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is required');
    const applied = await applyMigrations(url);
    console.log(applied.length ? `Applied: ${applied.join(', ')}` : 'No pending migrations.');
  } else if (command === 'new' && name && /^[a-z0-9_]+$/.test(name)) {
    const dir = await createMigration(name);
    console.log(
      dir ? `Created ${path.relative(process.cwd(), dir)}` : 'The schema has not changed.',
    );
  } else {
    console.error('usage: migrate.mjs deploy | new <snake_case_name>');
    process.exitCode = 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    () => process.exit(),
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
