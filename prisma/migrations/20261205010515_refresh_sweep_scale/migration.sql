-- DropIndex
DROP INDEX "connections_status_expires_at_idx";

-- CreateIndex
CREATE INDEX "connections_status_expires_at_id_idx" ON "connections"("status", "expires_at", "id");

-- CreateIndex
CREATE INDEX "connections_status_last_refreshed_at_id_idx" ON "connections"("status", "last_refreshed_at", "id");

-- CreateIndex
CREATE INDEX "connections_updated_at_id_idx" ON "connections"("updated_at", "id");
