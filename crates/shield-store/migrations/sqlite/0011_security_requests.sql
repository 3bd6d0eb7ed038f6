-- Requests for additional security (journey 5): the request, its timeline and its deadlines.
-- Keep in step with ../postgres.
--
-- What the candidate wrote (the events or period concerned and their reasons) is sealed by the
-- caller as one JSON value in `details`, bound to the row id. The latest assessment's scores,
-- rating, recommendation and measures, and the latest decision, are kept on the row in the
-- clear (they are ratings and keys, not narrative) for lists, the CSV export and the
-- consistency view; every written rationale, decision reason and reconsideration note is
-- sealed in `security_request_events.note`, bound to the event id.
CREATE TABLE security_requests (
    id                INTEGER PRIMARY KEY,
    candidate_id      BIGINT NOT NULL REFERENCES candidates (id),
    owner_force       TEXT NOT NULL REFERENCES forces (code),
    requested_by      BIGINT NOT NULL REFERENCES users (id),
    kind              TEXT NOT NULL,
    details           BLOB NOT NULL,
    -- The candidate's own report ids it links to, comma-separated.
    linked_reports    TEXT NOT NULL,
    -- Linked to one of the candidate's P1 reports: each step must be done the same day.
    urgent            BOOLEAN NOT NULL,
    status            TEXT NOT NULL,
    -- Who is on the hook for the current step ('lead', 'deputy', 'coordinator').
    tier              TEXT NOT NULL,
    assessed_by       BIGINT REFERENCES users (id),
    assessed_at_ms    BIGINT,
    scores            TEXT,
    rating            TEXT,
    recommendation    TEXT,
    -- Measures the recommendation names: request kinds, comma-separated.
    measures          TEXT,
    decided_by        BIGINT REFERENCES users (id),
    decided_at_ms     BIGINT,
    decision          TEXT,
    review_at_ms      BIGINT,
    reconsiderations  BIGINT NOT NULL DEFAULT 0,
    created_at_ms     BIGINT NOT NULL,
    updated_at_ms     BIGINT NOT NULL,
    CHECK (decided_by IS NULL OR assessed_by IS NULL OR decided_by <> assessed_by)
);
CREATE INDEX security_requests_candidate ON security_requests (candidate_id, id);
CREATE INDEX security_requests_force ON security_requests (owner_force, status);

CREATE TABLE security_request_events (
    id             INTEGER PRIMARY KEY,
    request_id     BIGINT NOT NULL REFERENCES security_requests (id),
    at_ms          BIGINT NOT NULL,
    actor_user_id  BIGINT REFERENCES users (id),
    -- 'requested', 'notified', 'assessed', 'decided', 'reconsideration', 'escalated'.
    kind           TEXT NOT NULL,
    -- Ids and keys only (JSON object).
    detail         TEXT NOT NULL,
    note           BLOB
);
CREATE INDEX security_request_events_request ON security_request_events (request_id, id);

-- The assess-by and decide-by deadlines, fired by the worker: at most one live row per request.
CREATE TABLE security_deadlines (
    id               INTEGER PRIMARY KEY,
    request_id       BIGINT NOT NULL REFERENCES security_requests (id),
    stage            TEXT NOT NULL,
    tier             TEXT NOT NULL,
    -- The window this tier had; a deputy reached by escalation gets the same.
    window_ms        BIGINT NOT NULL,
    due_at_ms        BIGINT NOT NULL,
    created_at_ms    BIGINT NOT NULL,
    fired_at_ms      BIGINT,
    cancelled_at_ms  BIGINT
);
CREATE INDEX security_deadlines_due ON security_deadlines (due_at_ms)
    WHERE fired_at_ms IS NULL AND cancelled_at_ms IS NULL;
CREATE UNIQUE INDEX security_deadlines_one_live ON security_deadlines (request_id)
    WHERE fired_at_ms IS NULL AND cancelled_at_ms IS NULL;
