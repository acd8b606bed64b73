-- Retention by seq, never by created_at alone. A batch's created_at is when
-- its transaction started, and appends take their seq later, queueing on the
-- chain head (and replicas' clocks or a failover can disagree), so created_at
-- order and seq order need not match: removing every batch older than the
-- cutoff could remove seq n+1 and keep seq n, a gap that `audit verify` would
-- report as tampering. This version removes a prefix of the chain: batches up
-- to the newest seq created before the cutoff, oldest first, max_batches at
-- most, so what remains is contiguous and its first prev_hash is the anchor.
-- A batch created in the last day ends the prefix (it and all after it are
-- kept), so a wrong created_at on one batch cannot pull the recent trail in.
--
-- Function bodies are E'' strings with every semicolon written \073: the
-- migration runner (adapter-pg's executeScript) splits the file at each one.
CREATE OR REPLACE FUNCTION "audit_purge"(cutoff TIMESTAMPTZ, max_batches INTEGER) RETURNS INTEGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS E'
DECLARE
    boundary BIGINT\073
    doomed BIGINT[]\073
    legacy INTEGER\073
BEGIN
    IF cutoff > now() - interval ''1 day'' THEN
        RAISE EXCEPTION ''audit_purge keeps at least a day of audit rows (cutoff %)'', cutoff\073
    END IF\073
    PERFORM set_config(''token_broker.audit_purge'', ''on'', true)\073
    SELECT max(seq) INTO boundary FROM audit_batches WHERE created_at < cutoff\073
    SELECT coalesce(array_agg(id), ''{}'') INTO doomed FROM (
        SELECT id, bool_or(created_at >= now() - interval ''1 day'') OVER (ORDER BY seq) AS recent
        FROM (
            SELECT id, seq, created_at FROM audit_batches
            WHERE seq <= boundary ORDER BY seq LIMIT max_batches
        ) oldest
    ) prefix WHERE NOT recent\073
    DELETE FROM audit_events WHERE batch_id = ANY (doomed)\073
    DELETE FROM audit_batches WHERE id = ANY (doomed)\073
    DELETE FROM audit_events WHERE id IN (
        SELECT id FROM audit_events WHERE batch_id IS NULL AND created_at < cutoff
        LIMIT max_batches * 100
    )\073
    GET DIAGNOSTICS legacy = ROW_COUNT\073
    PERFORM set_config(''token_broker.audit_purge'', ''off'', true)\073
    RETURN cardinality(doomed) + legacy\073
END
';
