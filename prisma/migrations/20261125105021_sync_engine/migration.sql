-- CreateEnum
CREATE TYPE "SyncRunStatus" AS ENUM ('queued', 'running', 'succeeded', 'failed');

-- CreateTable
CREATE TABLE "sync_runs" (
    "id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "status" "SyncRunStatus" NOT NULL,
    "trigger" TEXT NOT NULL,
    "full" BOOLEAN NOT NULL,
    "checkpoint" JSONB,
    "records_fetched" INTEGER NOT NULL DEFAULT 0,
    "records_upserted" INTEGER NOT NULL DEFAULT 0,
    "records_deleted" INTEGER NOT NULL DEFAULT 0,
    "pages" INTEGER NOT NULL DEFAULT 0,
    "executions" INTEGER NOT NULL DEFAULT 0,
    "attempts_made" INTEGER NOT NULL DEFAULT 0,
    "error_code" TEXT,
    "error_message" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),

    CONSTRAINT "sync_runs_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sync_states" (
    "connection_id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "watermark" TEXT,
    "last_run_id" UUID,
    "last_success_at" TIMESTAMPTZ(3),
    "last_full_sync_at" TIMESTAMPTZ(3),

    CONSTRAINT "sync_states_pkey" PRIMARY KEY ("connection_id","model")
);

-- CreateTable
CREATE TABLE "records" (
    "connection_id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "external_id" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "content_hash" TEXT NOT NULL,
    "provider_updated_at" TIMESTAMPTZ(3),
    "modified_at" TIMESTAMPTZ(3) NOT NULL,
    "deleted_at" TIMESTAMPTZ(3),
    "last_seen_run_id" UUID,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "records_pkey" PRIMARY KEY ("connection_id","model","external_id")
);

-- CreateIndex
CREATE INDEX "sync_runs_connection_id_created_at_idx" ON "sync_runs"("connection_id", "created_at");

-- CreateIndex
CREATE INDEX "records_connection_id_model_modified_at_external_id_idx" ON "records"("connection_id", "model", "modified_at", "external_id");

-- AddForeignKey
ALTER TABLE "sync_runs" ADD CONSTRAINT "sync_runs_connection_id_fkey" FOREIGN KEY ("connection_id") REFERENCES "connections"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- One queued or running run per connection and model: a second trigger finds
-- this one instead of starting a twin. (Partial indexes are not expressible in
-- schema.prisma, and the schema-to-schema diff never sees, so never drops, it.)
CREATE UNIQUE INDEX "sync_runs_one_active_idx" ON "sync_runs"("connection_id", "model") WHERE "status" IN ('queued', 'running');
