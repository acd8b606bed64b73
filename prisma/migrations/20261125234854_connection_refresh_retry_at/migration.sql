-- AlterTable
ALTER TABLE "connections" ADD COLUMN     "refresh_retry_at" TIMESTAMPTZ(3);
