-- One row per audit batch instead of one per event. Every strict token read
-- waits for its batch to commit, and each event row cost PostgreSQL about
-- 15 µs (three indexes, a jsonb parse, audit_event_text, its share of the
-- digest). Now a batch row carries its events as text, one JSON array per
-- line, exactly the bytes its digest covers, so appending 64 events costs
-- little more than appending one. The view audit_events still shows one row
-- per event, for operators and ad-hoc queries (it parses every batch: the
-- broker itself pages through AuditRepository, by index).
--
-- Function bodies are E'' strings with every semicolon written \073: the
-- migration runner (adapter-pg's executeScript) splits the file at each one,
-- comments included, so no comment here holds one either.

-- What a batch's hash covers, given its prev_hash: defined once, used by the
-- append (AuditAppender) and by `audit verify`. Format 1 lines carry their
-- ids, format 2 ids are first_event_id onwards, so the digest covers it.
CREATE FUNCTION "audit_batch_digest"(format SMALLINT, first_event_id BIGINT, events TEXT)
RETURNS BYTEA LANGUAGE sql STABLE AS E'
    SELECT sha256(convert_to(CASE format
        WHEN 1 THEN events
        ELSE first_event_id::text || chr(10) || events
    END, ''UTF8''))
';

-- The whole change of storage is one statement, so one transaction: it
-- happens entirely or not at all (the runner commits each statement of this
-- file on its own). It first locks the trail's tables in the order an append
-- of the previous version takes them (audit_events, audit_chain_head,
-- audit_batches), so it queues behind appends in flight instead of
-- deadlocking with them, and gives up after 30 s (changing nothing) rather
-- than hold appends back for longer. A replica still running the previous
-- version then fails (closed) on the table that is gone.
--
-- A chained batch becomes format 1: its events are the audit_event_text of
-- its rows joined by newlines in id order, the very text the append and
-- `audit verify` digested, so every stored hash still verifies. Its ids stay
-- in its lines: batches written concurrently took interleaved ids from one
-- sequence, so a format 1 batch's ids need not be contiguous (hence
-- last_event_id). A chained batch left with no rows (only tampering does
-- that) gets no events and a negative id of its own, and `audit verify`
-- reports it. Rows from before the chain existed (batch_id NULL) become
-- unchained format 1 batches of up to 500 rows in id order, with no seq and
-- no hashes, created_at the newest of their rows, so retention removes one
-- only once all its rows are past the cutoff. Event ids go on from the
-- highest ever taken. The events are stored out of line uncompressed: pglz
-- over a batch's JSON would cost the append CPU under the chain head's
-- lock, for disk that retention frees anyway.
DO E'
BEGIN
    PERFORM set_config(''lock_timeout'', ''30s'', true)\073
    LOCK TABLE audit_events, audit_chain_head, audit_batches IN ACCESS EXCLUSIVE MODE\073
    ALTER TABLE audit_batches ADD COLUMN connection_ids UUID[], ADD COLUMN events TEXT,
        ADD COLUMN first_event_id BIGINT, ADD COLUMN format SMALLINT,
        ADD COLUMN last_event_id BIGINT, ADD COLUMN tenant_ids TEXT[],
        ALTER COLUMN seq DROP NOT NULL, ALTER COLUMN prev_hash DROP NOT NULL,
        ALTER COLUMN hash DROP NOT NULL\073
    ALTER TABLE audit_chain_head ADD COLUMN next_event_id BIGINT\073
    ALTER TABLE audit_batches DISABLE TRIGGER audit_batches_append_only\073
    UPDATE audit_batches b
    SET format = 1, events = e.events, first_event_id = e.first_id, last_event_id = e.last_id,
        connection_ids = e.connection_ids, tenant_ids = e.tenant_ids
    FROM (
        SELECT batch_id,
            string_agg(audit_event_text(id, action, connection_id, tenant_id, service_key_id,
                request_id, token_fingerprint, detail, created_at), chr(10) ORDER BY id) AS events,
            min(id) AS first_id, max(id) AS last_id,
            coalesce(array_agg(DISTINCT connection_id) FILTER (WHERE connection_id IS NOT NULL),
                ''{}'') AS connection_ids,
            coalesce(array_agg(DISTINCT tenant_id) FILTER (WHERE tenant_id IS NOT NULL),
                ''{}'') AS tenant_ids
        FROM audit_events WHERE batch_id IS NOT NULL GROUP BY batch_id
    ) e
    WHERE b.id = e.batch_id\073
    UPDATE audit_batches
    SET format = 1, events = '''', first_event_id = -id, last_event_id = -id,
        connection_ids = ''{}'', tenant_ids = ''{}''
    WHERE events IS NULL\073
    ALTER TABLE audit_batches ENABLE TRIGGER audit_batches_append_only\073
    INSERT INTO audit_batches (format, events, first_event_id, last_event_id, row_count,
        connection_ids, tenant_ids, created_at)
    SELECT 1,
        string_agg(audit_event_text(id, action, connection_id, tenant_id, service_key_id,
            request_id, token_fingerprint, detail, created_at), chr(10) ORDER BY id),
        min(id), max(id), count(*),
        coalesce(array_agg(DISTINCT connection_id) FILTER (WHERE connection_id IS NOT NULL),
            ''{}''),
        coalesce(array_agg(DISTINCT tenant_id) FILTER (WHERE tenant_id IS NOT NULL), ''{}''),
        max(created_at)
    FROM (
        SELECT *, (row_number() OVER (ORDER BY id) - 1) / 500 AS chunk
        FROM audit_events WHERE batch_id IS NULL
    ) unchained
    GROUP BY chunk\073
    UPDATE audit_chain_head SET next_event_id = greatest(
        (SELECT coalesce(max(id), 0) FROM audit_events),
        (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM audit_events_id_seq)
    ) + 1\073
    DROP TABLE audit_events\073
    DROP FUNCTION audit_event_text(BIGINT, TEXT, UUID, TEXT, UUID, TEXT, TEXT, JSONB, TIMESTAMPTZ)\073
    ALTER TABLE audit_batches ALTER COLUMN events SET NOT NULL,
        ALTER COLUMN first_event_id SET NOT NULL, ALTER COLUMN format SET NOT NULL,
        ALTER COLUMN last_event_id SET NOT NULL, ALTER COLUMN events SET STORAGE EXTERNAL\073
    ALTER TABLE audit_chain_head ALTER COLUMN next_event_id SET NOT NULL\073
END
';

-- The chain head is moved by every append and never removed: without its
-- row an append would have nothing to chain to (AuditAppender also refuses
-- to count such an append as written).
CREATE TRIGGER "audit_chain_head_no_delete" BEFORE DELETE ON "audit_chain_head"
    FOR EACH ROW EXECUTE FUNCTION "audit_refuse_change"();
CREATE TRIGGER "audit_chain_head_no_truncate" BEFORE TRUNCATE ON "audit_chain_head"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_refuse_change"();

CREATE UNIQUE INDEX "audit_batches_first_event_id_key" ON "audit_batches"("first_event_id");

CREATE INDEX "audit_batches_connection_ids_idx" ON "audit_batches" USING GIN ("connection_ids");

-- GET /v1/audit with a key for some tenants only pages by tenant_ids.
CREATE INDEX "audit_batches_tenant_ids_idx" ON "audit_batches" USING GIN ("tenant_ids");

-- audit_purge removes the batches outside the chain (seq NULL, converted
-- from before the chain existed) by created_at: without this index its
-- DELETE would walk every batch on each sweep, also once none is left.
CREATE INDEX "audit_batches_unchained_created_at_idx" ON "audit_batches"("created_at")
    WHERE "seq" IS NULL;

-- Paging by event id must find the format 1 batches whose id range spans the
-- cursor (their ranges overlap). Format 2 ranges never overlap, and no
-- format 2 batch is ever added to this index.
CREATE INDEX "audit_batches_format1_ids_idx" ON "audit_batches"
    USING GIST (int8range("first_event_id", "last_event_id", '[]')) WHERE "format" = 1;

-- One row per event, as the table of that name had. Format 1 lines are
-- [id, action, connection_id, tenant_id, service_key_id, request_id,
-- token_fingerprint, detail, created_at in epoch ms], format 2 lines the
-- same without the id. batch_id is NULL for batches outside the chain.
CREATE VIEW "audit_events" AS
SELECT
    CASE b.format WHEN 1 THEN (e.j->>0)::bigint ELSE b.first_event_id + l.n - 1 END AS id,
    e.j->>(f.k) AS action,
    (e.j->>(f.k + 1))::uuid AS connection_id,
    e.j->>(f.k + 2) AS tenant_id,
    (e.j->>(f.k + 3))::uuid AS service_key_id,
    e.j->>(f.k + 4) AS request_id,
    e.j->>(f.k + 5) AS token_fingerprint,
    nullif(e.j->(f.k + 6), 'null'::jsonb) AS detail,
    (timestamptz 'epoch' + (e.j->>(f.k + 7))::bigint * interval '1 millisecond')::timestamptz(3)
        AS created_at,
    CASE WHEN b.seq IS NOT NULL THEN b.id END AS batch_id
FROM audit_batches b
CROSS JOIN LATERAL (SELECT CASE b.format WHEN 1 THEN 1 ELSE 0 END AS k) f
CROSS JOIN LATERAL unnest(string_to_array(b.events, chr(10))) WITH ORDINALITY AS l(line, n)
CROSS JOIN LATERAL (SELECT l.line::jsonb AS j) e;

-- Retention, as before by whole chained batches (a prefix of the chain by
-- seq, see 20261205033500_audit_purge_by_seq), and now also whole unchained
-- batches created before the cutoff, at most max_batches of each. Returns
-- the number of batches removed.
CREATE OR REPLACE FUNCTION "audit_purge"(cutoff TIMESTAMPTZ, max_batches INTEGER) RETURNS INTEGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS E'
DECLARE
    boundary BIGINT\073
    doomed BIGINT[]\073
    unchained INTEGER\073
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
    DELETE FROM audit_batches WHERE id = ANY (doomed)\073
    DELETE FROM audit_batches WHERE id IN (
        SELECT id FROM audit_batches WHERE seq IS NULL AND created_at < cutoff
        ORDER BY first_event_id LIMIT max_batches
    )\073
    GET DIAGNOSTICS unchained = ROW_COUNT\073
    PERFORM set_config(''token_broker.audit_purge'', ''off'', true)\073
    RETURN cardinality(doomed) + unchained\073
END
';
