# syntax=docker/dockerfile:1
# Targets:
#   runtime (default)  the broker: production dependencies and the compiled service only
#   tools              migrations (prisma/migrate.mjs), the CLI, the sandbox CRM and the demo app
ARG NODE_IMAGE=node:24-bookworm-slim
# The runtime takes only the node binary from the official Alpine image, onto
# the same Alpine release (musl must match): no npm, yarn or C headers.
ARG NODE_ALPINE_IMAGE=node:24-alpine3.22
ARG ALPINE_IMAGE=alpine:3.22

FROM ${NODE_ALPINE_IMAGE} AS node-binary

# ---- build: every dependency, the Prisma client, the compiled service ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json prisma.config.ts ./
COPY prisma ./prisma
# postinstall runs `prisma generate` (needs only the schema, no database).
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json nest-cli.json ./
COPY src ./src
COPY sdk ./sdk
RUN npm run build

# ---- tools: one-shot jobs and the demo (not the serving image) ----
FROM build AS tools
COPY sandbox ./sandbox
COPY demo ./demo
# Named volumes take the ownership of the folder they are mounted on, the first time.
RUN mkdir -p /demo-state && chown node:node /demo-state
USER node
CMD ["node", "prisma/migrate.mjs", "deploy"]

# ---- runtime dependencies: production only, without the migration engine ----
FROM ${NODE_IMAGE} AS runtime-deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY docker/prune-runtime.sh ./
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund && sh prune-runtime.sh

# ---- runtime: what serves, nothing else ----
FROM ${ALPINE_IMAGE} AS runtime
RUN apk add --no-cache libstdc++ \
  && addgroup -g 1000 node && adduser -u 1000 -G node -s /bin/sh -D node \
  && mkdir -p /demo-state && chown node:node /demo-state
COPY --from=node-binary /usr/local/bin/node /usr/local/bin/node
ENV NODE_ENV=production PORT=3000
WORKDIR /app
COPY --from=runtime-deps --chown=node:node /app/node_modules ./node_modules
COPY --from=build --chown=node:node /app/package.json ./
COPY --from=build --chown=node:node /app/dist ./dist
# The migration folders only: the start-up check compares them with the database.
COPY --from=build --chown=node:node /app/prisma/migrations ./prisma/migrations
COPY --from=build --chown=node:node /app/sdk ./sdk
USER node
EXPOSE 3000
# Readiness, not liveness: 503 while PostgreSQL is unreachable or the process is stopping.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/main.js"]
