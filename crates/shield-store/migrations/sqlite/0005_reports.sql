-- Reports of concern and everything hanging off them: the forces told, the timeline, secure
-- messages, evidence, offender tokens, links, acknowledge-by deadlines, and the forces' webhook
-- endpoints. Keep in step with ../postgres. What a report says (details, messages, evidence,
-- file names, priority-change reasons, webhook secrets) is sealed by the caller with associated
-- data binding the row id, so the store inserts the row first and writes the sealed value in the
-- same transaction: those columns are briefly an empty blob, never plaintext.
CREATE TABLE reports (
    id                 INTEGER PRIMARY KEY,
    candidate_id       BIGINT NOT NULL REFERENCES candidates (id),
    -- The constituency's primary force when the report was made: it owns the report even if
    -- the lookup changes later.
    owner_force        TEXT NOT NULL REFERENCES forces (code),
    reported_by        BIGINT NOT NULL REFERENCES users (id),
    category           TEXT NOT NULL,
    happening_now      BOOLEAN NOT NULL,
    priority           INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 4),
    -- Triage's reasons, a JSON array of strings (fixed wording, not the reporter's text).
    reasons            TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('new', 'acknowledged', 'in_progress', 'closed')),
    outcome            TEXT,
    -- The tier currently asked to acknowledge.
    tier               TEXT NOT NULL CHECK (tier IN ('lead', 'deputy', 'coordinator')),
    acknowledged_by    BIGINT REFERENCES users (id),
    acknowledged_at_ms BIGINT,
    details            BLOB NOT NULL,
    created_at_ms      BIGINT NOT NULL,
    updated_at_ms      BIGINT NOT NULL
);
CREATE INDEX reports_candidate ON reports (candidate_id);

-- Every force a report was routed to: the owner, and the other forces of a cross-force
-- constituency, which are told but do not own it. Lists filter on it by force.
CREATE TABLE report_forces (
    report_id  BIGINT NOT NULL REFERENCES reports (id),
    force_code TEXT NOT NULL REFERENCES forces (code),
    is_owner   BOOLEAN NOT NULL,
    PRIMARY KEY (report_id, force_code)
);
CREATE INDEX report_forces_force ON report_forces (force_code);
CREATE UNIQUE INDEX report_forces_one_owner ON report_forces (report_id) WHERE is_owner;

-- The timeline. `detail` is a flat JSON object of ids and enum keys; `note` (a priority
-- change's reason) is sealed.
CREATE TABLE report_events (
    id            INTEGER PRIMARY KEY,
    report_id     BIGINT NOT NULL REFERENCES reports (id),
    at_ms         BIGINT NOT NULL,
    actor_user_id BIGINT REFERENCES users (id),
    kind          TEXT NOT NULL CHECK (kind IN ('created', 'notified', 'escalated', 'acknowledged',
                      'status', 'priority', 'message', 'note', 'linked', 'evidence')),
    detail        TEXT NOT NULL,
    note          BLOB
);
CREATE INDEX report_events_report ON report_events (report_id, id);

CREATE TABLE report_messages (
    id             INTEGER PRIMARY KEY,
    report_id      BIGINT NOT NULL REFERENCES reports (id),
    author_user_id BIGINT NOT NULL REFERENCES users (id),
    -- A police note, never shown to the candidate's side.
    internal       BOOLEAN NOT NULL,
    body           BLOB NOT NULL,
    created_at_ms  BIGINT NOT NULL
);
CREATE INDEX report_messages_report ON report_messages (report_id, id);

CREATE TABLE evidence (
    id            INTEGER PRIMARY KEY,
    report_id     BIGINT NOT NULL REFERENCES reports (id),
    kind          TEXT NOT NULL,
    size          BIGINT NOT NULL CHECK (size >= 0),
    -- SHA-256 of the plaintext, lower-case hex: chain of custody.
    sha256        TEXT NOT NULL CHECK (length(sha256) = 64),
    filename      BLOB NOT NULL,
    content       BLOB NOT NULL,
    uploaded_by   BIGINT NOT NULL REFERENCES users (id),
    created_at_ms BIGINT NOT NULL
);
CREATE INDEX evidence_report ON evidence (report_id, id);

-- Keyed blind-index tokens (HMAC by the caller) of offender identifiers: the same offender
-- is found across reports without the identifiers being stored.
CREATE TABLE offender_tokens (
    report_id BIGINT NOT NULL REFERENCES reports (id),
    token     BLOB NOT NULL,
    PRIMARY KEY (report_id, token)
);
CREATE INDEX offender_tokens_token ON offender_tokens (token);

-- Links are symmetric: stored once, smaller id first.
CREATE TABLE report_links (
    a BIGINT NOT NULL REFERENCES reports (id),
    b BIGINT NOT NULL REFERENCES reports (id),
    PRIMARY KEY (a, b),
    CHECK (a < b)
);
CREATE INDEX report_links_b ON report_links (b);

-- Acknowledge-by deadlines. A row is live until it is fired (the next tier was told) or
-- cancelled (acknowledged, or re-set by a priority change); a report has at most one live row.
CREATE TABLE report_deadlines (
    id              INTEGER PRIMARY KEY,
    report_id       BIGINT NOT NULL REFERENCES reports (id),
    tier            TEXT NOT NULL CHECK (tier IN ('lead', 'deputy', 'coordinator')),
    due_at_ms       BIGINT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    fired_at_ms     BIGINT,
    cancelled_at_ms BIGINT
);
CREATE UNIQUE INDEX report_deadlines_one_live
    ON report_deadlines (report_id) WHERE fired_at_ms IS NULL AND cancelled_at_ms IS NULL;
-- What the worker scans: live rows by due time.
CREATE INDEX report_deadlines_due
    ON report_deadlines (due_at_ms) WHERE fired_at_ms IS NULL AND cancelled_at_ms IS NULL;

-- A force's signed webhook endpoint. The signing secret is sealed; outbox rows carry a copy of
-- the sealed bytes and the row id it is bound to, for the worker to open.
CREATE TABLE force_webhooks (
    id            INTEGER PRIMARY KEY,
    force_code    TEXT NOT NULL UNIQUE REFERENCES forces (code),
    url           TEXT NOT NULL,
    secret        BLOB NOT NULL,
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
