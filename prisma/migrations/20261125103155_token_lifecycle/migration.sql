-- AlterTable
ALTER TABLE "connections" ADD COLUMN     "last_refresh_error" TEXT,
ADD COLUMN     "refresh_failures" INTEGER NOT NULL DEFAULT 0;

-- AlterTable
ALTER TABLE "credentials" ADD COLUMN     "refresh_lease_owner" TEXT,
ADD COLUMN     "refresh_lease_until" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "pending_revocations" (
    "id" UUID NOT NULL,
    "connection_id" UUID NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "integration_key" TEXT NOT NULL,
    "key_id" TEXT NOT NULL,
    "ciphertext" BYTEA NOT NULL,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "last_error" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pending_revocations_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "events" (
    "id" BIGSERIAL NOT NULL,
    "type" TEXT NOT NULL,
    "connection_id" UUID,
    "tenant_id" TEXT,
    "payload" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "delivered_at" TIMESTAMPTZ(3),
    "attempts" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "events_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "pending_revocations_key_id_idx" ON "pending_revocations"("key_id");

-- CreateIndex
CREATE INDEX "events_delivered_at_id_idx" ON "events"("delivered_at", "id");

-- CreateIndex
CREATE INDEX "events_connection_id_created_at_idx" ON "events"("connection_id", "created_at");
