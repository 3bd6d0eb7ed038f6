-- Registered campaign activities and per-user calendar feed tokens. Keep in step with ../postgres.
--
-- An activity is what a candidate plans to do (canvassing, a street stall, a hustings, a
-- surgery, a public meeting, the count), when, where and with how many people. Where
-- (`place`) is sealed by the caller, bound to the row id: a surgery's venue is sensitive until
-- published. The police of the candidate's forces see upcoming activities, and may subscribe
-- to them through a calendar feed.
CREATE TABLE activities (
    id            INTEGER PRIMARY KEY,
    candidate_id  BIGINT NOT NULL REFERENCES candidates (id),
    created_by    BIGINT NOT NULL REFERENCES users (id),
    -- From the check-in kinds ('canvassing', 'street_stall', 'hustings', 'surgery', …).
    kind          TEXT NOT NULL,
    starts_at_ms  BIGINT NOT NULL,
    ends_at_ms    BIGINT NOT NULL,
    place         BLOB NOT NULL,
    people        BIGINT NOT NULL CHECK (people > 0),
    alone         BOOLEAN NOT NULL,
    -- The pre-event checklist items ticked, comma-separated ('exits,someone_knows,police').
    checklist     TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    CHECK (ends_at_ms > starts_at_ms)
);
CREATE INDEX activities_candidate ON activities (candidate_id, starts_at_ms);
CREATE INDEX activities_ends ON activities (ends_at_ms);

-- A person's secret calendar feed URL: only the SHA-256 of its 256-bit token is kept. One per
-- person; making a new one replaces the old, deleting the row revokes it.
CREATE TABLE calendar_tokens (
    user_id       BIGINT PRIMARY KEY REFERENCES users (id),
    token_hash    BLOB NOT NULL UNIQUE,
    created_at_ms BIGINT NOT NULL
);
