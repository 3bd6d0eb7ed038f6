-- Lone-working check-in sessions and their PINs. Keep in step with ../sqlite.
--
-- A session is live while `status = 'active'`; the worker raises an alarm (a P1 report, made
-- in the same transaction) for a live session whose `next_due_at_ms` or `ends_at_ms` has
-- passed, and marks it `alarm` so it fires exactly once. Where the candidate is (`place`) is
-- sealed by the caller, bound to the row id, like report details.
CREATE TABLE checkin_sessions (
    id              BIGSERIAL PRIMARY KEY,
    candidate_id    BIGINT NOT NULL REFERENCES candidates (id),
    started_by      BIGINT NOT NULL REFERENCES users (id),
    -- What they are doing, from a fixed list ('canvassing', 'street_stall', …, 'other').
    kind            TEXT NOT NULL,
    place           BYTEA NOT NULL,
    interval_ms     BIGINT NOT NULL CHECK (interval_ms > 0),
    started_at_ms   BIGINT NOT NULL,
    last_safe_at_ms BIGINT NOT NULL,
    next_due_at_ms  BIGINT NOT NULL,
    ends_at_ms      BIGINT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('active', 'ended', 'alarm')),
    -- 'missed_check_in', 'overran', 'panic', 'duress' once an alarm is raised.
    alarm           TEXT,
    alarm_report_id BIGINT REFERENCES reports (id),
    closed_at_ms    BIGINT
);
CREATE INDEX checkin_sessions_candidate ON checkin_sessions (candidate_id, id);
-- What the worker scans: live sessions by their next check-in.
CREATE INDEX checkin_sessions_due ON checkin_sessions (next_due_at_ms) WHERE status = 'active';
CREATE INDEX checkin_sessions_ends ON checkin_sessions (ends_at_ms) WHERE status = 'active';

-- A person's PIN to end a session and their duress PIN (which appears to end it and raises a
-- silent alarm): Argon2id PHC strings, like passwords.
CREATE TABLE checkin_pins (
    user_id       BIGINT PRIMARY KEY REFERENCES users (id),
    pin_phc       TEXT NOT NULL,
    duress_phc    TEXT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
