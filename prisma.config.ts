import { defineConfig } from 'prisma/config';

// Prisma 7's CLI insists on a native schema engine binary before any command,
// and downloading it fails on hosts that only reach the npm registry. `generate`
// never runs that engine, so any existing file satisfies the check; migrations
// go through the Wasm engine (prisma/migrate.mjs) instead of this CLI.
process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'postgresql://localhost:5432/token_broker' },
});
