-- Every strict token read waits for its audit row's INSERT, and each index on
-- audit_events is work in that INSERT. Nothing reads by (connection_id,
-- created_at): paging is keyset on (connection_id, id), retention goes by batch.
DROP INDEX "audit_events_connection_id_created_at_idx";
