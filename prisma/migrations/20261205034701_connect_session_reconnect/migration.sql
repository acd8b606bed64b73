-- AlterTable
ALTER TABLE "connect_sessions" ADD COLUMN     "reconnect_account_id" TEXT,
ADD COLUMN     "reconnect_connection_id" UUID,
ALTER COLUMN "service_key_id" DROP NOT NULL;
