-- AlterEnum
ALTER TYPE "SyncRunStatus" ADD VALUE 'cancelled';

-- AlterTable
ALTER TABLE "sync_runs" ADD COLUMN     "execution_id" UUID;
