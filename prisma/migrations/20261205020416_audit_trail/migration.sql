-- AlterTable
ALTER TABLE "audit_events" ADD COLUMN     "batch_id" BIGINT,
ADD COLUMN     "request_id" TEXT,
ADD COLUMN     "token_fingerprint" TEXT;

-- CreateTable
CREATE TABLE "audit_batches" (
    "id" BIGSERIAL NOT NULL,
    "seq" BIGINT NOT NULL,
    "prev_hash" BYTEA NOT NULL,
    "hash" BYTEA NOT NULL,
    "row_count" INTEGER NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "audit_batches_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "audit_chain_head" (
    "id" INTEGER NOT NULL DEFAULT 1,
    "seq" BIGINT NOT NULL,
    "hash" BYTEA NOT NULL,
    "prev_hash" BYTEA NOT NULL,

    CONSTRAINT "audit_chain_head_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "audit_batches_seq_key" ON "audit_batches"("seq");

-- CreateIndex
CREATE INDEX "audit_batches_created_at_idx" ON "audit_batches"("created_at");

-- CreateIndex
CREATE INDEX "audit_events_connection_id_id_idx" ON "audit_events"("connection_id", "id");

-- CreateIndex
CREATE INDEX "audit_events_batch_id_idx" ON "audit_events"("batch_id");

-- AddForeignKey
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_batch_id_fkey" FOREIGN KEY ("batch_id") REFERENCES "audit_batches"("id") ON DELETE NO ACTION ON UPDATE NO ACTION;

-- Function bodies are E'' strings with every semicolon written \073: the
-- migration runner (adapter-pg's executeScript) splits the file at each one.

-- The chain starts from 32 zero bytes: every batch append moves the head.
INSERT INTO "audit_chain_head" ("id", "seq", "hash", "prev_hash")
VALUES (1, 0, decode(repeat('00', 32), 'hex'), decode(repeat('00', 32), 'hex'));

-- What one row contributes to its batch's digest. Defined once, here, and used
-- both by the append (AuditRepository) and by `audit verify`, so both hash the
-- same bytes whatever the session's time zone or the JSON's key order
-- (jsonb's text form is canonical).
CREATE FUNCTION "audit_event_text"(
    id BIGINT, action TEXT, connection_id UUID, tenant_id TEXT, service_key_id UUID,
    request_id TEXT, token_fingerprint TEXT, detail JSONB, created_at TIMESTAMPTZ
) RETURNS TEXT LANGUAGE sql STABLE AS E'
    SELECT jsonb_build_array(
        id, action, connection_id, tenant_id, service_key_id, request_id, token_fingerprint,
        detail, floor(extract(epoch FROM created_at) * 1000)::bigint
    )::text
';

-- Append-only. UPDATE and TRUNCATE are always refused, DELETE only inside
-- audit_purge(), which sets a transaction-local flag. The flag stops
-- accidents and ad-hoc statements, against a role bent on tampering, revoke
-- UPDATE, DELETE and TRUNCATE on these tables from the broker's role (the
-- SECURITY DEFINER purge keeps working as its owner), and the hash chain
-- makes any edit detectable by `audit verify`.
CREATE FUNCTION "audit_refuse_change"() RETURNS trigger LANGUAGE plpgsql AS E'
BEGIN
    IF TG_OP = ''DELETE'' AND current_setting(''token_broker.audit_purge'', true) = ''on'' THEN
        RETURN OLD\073
    END IF\073
    RAISE EXCEPTION ''the audit trail is append-only: % on % refused'', TG_OP, TG_TABLE_NAME
        USING ERRCODE = ''insufficient_privilege''\073
END
';

CREATE TRIGGER "audit_events_append_only" BEFORE UPDATE OR DELETE ON "audit_events"
    FOR EACH ROW EXECUTE FUNCTION "audit_refuse_change"();
CREATE TRIGGER "audit_events_no_truncate" BEFORE TRUNCATE ON "audit_events"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_refuse_change"();
CREATE TRIGGER "audit_batches_append_only" BEFORE UPDATE OR DELETE ON "audit_batches"
    FOR EACH ROW EXECUTE FUNCTION "audit_refuse_change"();
CREATE TRIGGER "audit_batches_no_truncate" BEFORE TRUNCATE ON "audit_batches"
    FOR EACH STATEMENT EXECUTE FUNCTION "audit_refuse_change"();

-- Retention: removes up to max_batches whole batches created before cutoff
-- (oldest first, so what remains is a contiguous chain whose first prev_hash
-- is its anchor), and rows written before the chain existed. Refuses to
-- remove anything younger than a day.
CREATE FUNCTION "audit_purge"(cutoff TIMESTAMPTZ, max_batches INTEGER) RETURNS INTEGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS E'
DECLARE
    doomed BIGINT[]\073
    legacy INTEGER\073
BEGIN
    IF cutoff > now() - interval ''1 day'' THEN
        RAISE EXCEPTION ''audit_purge keeps at least a day of audit rows (cutoff %)'', cutoff\073
    END IF\073
    PERFORM set_config(''token_broker.audit_purge'', ''on'', true)\073
    SELECT coalesce(array_agg(id), ''{}'') INTO doomed FROM (
        SELECT id FROM audit_batches WHERE created_at < cutoff ORDER BY seq LIMIT max_batches
    ) oldest\073
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
