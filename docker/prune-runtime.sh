#!/bin/sh
# Leaves in ./node_modules only what the serving process loads (run after
# `npm ci --omit=dev --omit=optional --ignore-scripts`). Migrations run from
# the `tools` image (prisma/migrate.mjs), so their engine, the Prisma CLI's
# libraries and the query compilers of other databases go.
set -eu
cd node_modules
rm -rf \
  @prisma/migrate @prisma/internals @prisma/schema-engine-wasm @prisma/prisma-schema-wasm \
  @prisma/fetch-engine @prisma/get-platform @prisma/config @prisma/engines @prisma/engines-version \
  @prisma/get-dmmf @prisma/generator @prisma/generator-helper @prisma/schema-files-loader \
  @prisma/client-generator-js @prisma/client-generator-ts @prisma/client-generator-registry \
  @prisma/ts-builders @prisma/dmmf effect
# The generated client is PostgreSQL's; the other databases' Wasm query compilers are never loaded.
find @prisma/client/runtime -type f \( -name '*cockroachdb*' -o -name '*mysql*' -o -name '*sqlite*' -o -name '*sqlserver*' -o -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' \) -delete
# Type declarations, source maps and docs are not run.
find . -type f \( -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' -o -name '*.map' -o -name '*.md' -o -name '*.markdown' \) -delete
find . -type d -name '@types' -prune -exec rm -rf {} +
