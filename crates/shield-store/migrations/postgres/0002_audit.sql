-- The tamper-evident audit chain (see docs/ARCHITECTURE.md, "Audit chain"). Keep in step with
-- ../sqlite. Rows hold ids and fixed vocabulary only, never names or free text.
CREATE TABLE audit_events (
    seq           BIGINT PRIMARY KEY CHECK (seq > 0),
    at_ms         BIGINT NOT NULL,
    action        TEXT NOT NULL,
    actor_user_id BIGINT,
    actor_role    TEXT,
    subject_type  TEXT,
    subject_id    TEXT,
    outcome       TEXT NOT NULL,
    -- A JSON object of id-like strings.
    details       TEXT NOT NULL,
    prev_hash     BYTEA NOT NULL CHECK (length(prev_hash) = 32),
    hash          BYTEA NOT NULL CHECK (length(hash) = 32)
);

-- "Who viewed this candidate's record", newest first.
CREATE INDEX audit_events_subject ON audit_events (subject_type, subject_id, seq);

-- The chain's end, one row. Appends update it in the same transaction as the row they insert:
-- the row lock serialises concurrent appends until commit, and verification compares it with
-- the last row to catch truncation.
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash BYTEA NOT NULL CHECK (length(hash) = 32)
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));

-- Append-only: the application never updates or deletes an audit row. A superuser can still
-- disable this (or the deployment can additionally grant the app role INSERT and SELECT only);
-- verification is what catches edits.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_events is append-only';
END;
$$;

CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
