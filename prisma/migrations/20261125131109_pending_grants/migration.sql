-- CreateTable
CREATE TABLE "pending_grants" (
    "id" UUID NOT NULL,
    "tenant_id" TEXT NOT NULL,
    "integration_key" TEXT NOT NULL,
    "end_user_id" TEXT NOT NULL,
    "account" JSONB NOT NULL,
    "key_id" TEXT NOT NULL,
    "ciphertext" BYTEA NOT NULL,
    "finalize_token_hash" TEXT NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "pending_grants_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "pending_grants_expires_at_idx" ON "pending_grants"("expires_at");

-- CreateIndex
CREATE INDEX "pending_grants_key_id_idx" ON "pending_grants"("key_id");
