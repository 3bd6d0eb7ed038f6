-- The transactional outbox (see docs/ARCHITECTURE.md, "Outbox and worker"). Keep in step with
-- ../sqlite. A row is written in the same transaction as the change it announces; the worker
-- claims due rows with a lease and marks them sent only while it still holds that lease.
-- Rows hold an address, a template name and ids only, never report content; `secret` is
-- already sealed by the caller and never interpreted here.
CREATE TABLE outbox (
    id             BIGSERIAL PRIMARY KEY,
    -- Stable across retries: the Message-ID header, so duplicates can be recognised.
    -- 128 bits hashed from two random UUIDs (244 bits from the server's strong random source;
    -- gen_random_bytes would need pgcrypto).
    message_id     TEXT NOT NULL UNIQUE DEFAULT left(encode(sha256(
                       convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8')),
                       'hex'), 32),
    channel        TEXT NOT NULL CHECK (channel IN ('email', 'webhook')),
    to_address     TEXT NOT NULL,
    template       TEXT NOT NULL,
    -- A flat JSON object of ids.
    params         TEXT NOT NULL,
    secret         BYTEA,
    created_at_ms  BIGINT NOT NULL,
    due_at_ms      BIGINT NOT NULL,
    attempts       INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    status         TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    lease_owner    TEXT,
    lease_until_ms BIGINT,
    -- A short reason class (`smtp_4xx`, `connect`, …), never a server's reply text.
    last_error     TEXT,
    sent_at_ms     BIGINT
);

CREATE INDEX outbox_status_due ON outbox (status, due_at_ms);
