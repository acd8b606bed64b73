-- AlterTable
ALTER TABLE "events" ADD COLUMN     "failed_at" TIMESTAMPTZ(3),
ADD COLUMN     "last_error" TEXT,
ADD COLUMN     "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP;

-- Hand-written: what the delivery poll reads, kept small as delivered rows pile up.
CREATE INDEX "events_due_idx" ON "events" ("next_attempt_at", "id") WHERE "delivered_at" IS NULL AND "failed_at" IS NULL;
